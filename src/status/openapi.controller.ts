import { Controller, Get, Injectable, NotFoundException, type INestApplication } from '@nestjs/common';
import { ApiExcludeController, DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { PACKAGE_VERSION } from '../common/paths';

/** Holds the status API's OpenAPI document, made once the status app exists ({@link buildStatusOpenApi}). */
@Injectable()
export class StatusOpenApi {
  document?: OpenAPIObject;
}

/** Scans the status app's controllers into an OpenAPI 3 document. */
export function buildStatusOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Portico status API')
    .setDescription(
      'The status port of Portico: health (open), status (public view open, full view with the admin token), ' +
        'Prometheus metrics and the audit log. See docs/operations.md.',
    )
    .setVersion(PACKAGE_VERSION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'STATUS_ADMIN_TOKEN (or STATUS_ADMIN_TOKEN_FILE)' }, 'admin')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN: /metrics only' }, 'metrics')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** `GET /status/openapi.json`: open, it describes the API and holds no data. */
@ApiExcludeController()
@Controller('status')
export class OpenApiController {
  constructor(private readonly openApi: StatusOpenApi) {}

  @Get('openapi.json')
  document(): OpenAPIObject {
    if (!this.openApi.document) throw new NotFoundException('The OpenAPI document is not built yet');
    return this.openApi.document;
  }
}
