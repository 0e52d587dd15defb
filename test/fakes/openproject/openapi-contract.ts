import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** OpenProject's published API v3 contract (GPL-3.0 test data; see its NOTICE.md). */
export const SPEC_FILE = join(__dirname, '..', '..', 'fixtures', 'openproject-api', 'spec.json');

const SPEC_ID = 'openproject-api-v3';
/** OpenAPI's own formats and those OpenProject's spec uses: annotations, not checked. */
const ANNOTATION_FORMATS = ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password', 'hex-code', 'markdown', 'plain', 'html'];

/**
 * Responses the contract lists without a body although OpenProject sends one,
 * and the documented schema their body is checked against instead. Keep this
 * list short and explained.
 */
const UNDESCRIBED_BODIES: Record<string, string> = {
  // Documented as "200 OK" with no content; OpenProject answers with a Form like every `/form` endpoint.
  'POST /api/v3/time_entries/form 200': '#/components/schemas/Example_FormModel',
};

interface ResponseObject {
  $ref?: string;
  content?: Record<string, { schema?: unknown }>;
}
interface Operation {
  responses?: Record<string, ResponseObject>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, ResponseObject> };
}

export interface ResponseToCheck {
  method: string;
  /** The request path without query, e.g. `/api/v3/work_packages/42`. */
  path: string;
  status: number;
  contentType?: string;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

export type ContractResult = { ok: true; operation: string } | { ok: false; operation?: string; errors: string[] };

/**
 * Validates responses against the OpenAPI 3.1 document with Ajv's JSON Schema
 * 2020-12 validator (OpenAPI 3.1 schemas are 2020-12). The whole document is
 * registered as one schema, and each response schema is compiled on first use
 * by JSON pointer, so every `#/components/...` reference resolves as in the
 * spec. An error status the operation does not list is checked against the
 * spec's general `ErrorResponse` (OpenProject's documented error format).
 */
export class OpenApiContract {
  private static shared?: OpenApiContract;
  private readonly ajv: Ajv2020;
  private readonly spec: Spec;
  private readonly routes: { template: string; pattern: RegExp; params: number }[];
  private readonly validators = new Map<string, ValidateFunction>();

  static load(): OpenApiContract {
    return (OpenApiContract.shared ??= new OpenApiContract(JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as Spec));
  }

  constructor(spec: Spec) {
    this.spec = spec;
    // strict: false — OpenAPI adds keywords (example, readOnly, xml...) that are annotations for validation.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    for (const f of ANNOTATION_FORMATS) this.ajv.addFormat(f, true);
    this.ajv.addSchema(spec as object, SPEC_ID);
    this.routes = Object.keys(spec.paths)
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}|\{[^}]+\}/g, '[^/]+')}$`),
        params: (template.match(/\{/g) ?? []).length,
      }))
      // Literal segments win over parameters: /notifications/read_ian before /notifications/{id}.
      .sort((a, b) => a.params - b.params);
  }

  /** The spec's path template for a concrete path, e.g. `/api/v3/work_packages/{id}`. */
  route(path: string): string | undefined {
    return this.routes.find((r) => r.pattern.test(path))?.template;
  }

  validate(response: ResponseToCheck): ContractResult {
    const method = response.method.toLowerCase();
    const template = this.route(response.path);
    if (!template) return { ok: false, errors: [`${response.method} ${response.path}: no such path in the contract`] };
    const operation = `${response.method.toUpperCase()} ${template}`;
    const op = this.spec.paths[template][method];
    if (!op) return { ok: false, operation, errors: [`${operation}: no such operation in the contract`] };
    const status = String(response.status);
    let pointer: string;
    let declared = op.responses?.[status] ?? op.responses?.[`${status[0]}XX`] ?? op.responses?.default;
    if (declared) {
      pointer = `#/paths/${escape(template)}/${method}/responses/${op.responses?.[status] ? status : op.responses?.[`${status[0]}XX`] ? `${status[0]}XX` : 'default'}`;
      if (declared.$ref) {
        pointer = declared.$ref;
        declared = this.spec.components.responses[declared.$ref.split('/').pop()!];
      }
    } else if (response.status >= 400) {
      return this.check(operation, '#/components/schemas/ErrorResponse', response, ['application/hal+json', 'application/json']);
    } else {
      return { ok: false, operation, errors: [`${operation}: status ${status} is not documented`] };
    }
    const media = Object.keys(declared.content ?? {});
    const undescribed = UNDESCRIBED_BODIES[`${operation} ${status}`];
    if (!media.length && undescribed && response.body !== undefined) {
      return this.check(operation, undescribed, response, ['application/hal+json', 'application/json']);
    }
    if (!media.length) {
      return response.body === undefined ? { ok: true, operation } : { ok: false, operation, errors: [`${operation} ${status}: the contract declares no body, but one was sent`] };
    }
    const type = media.find((m) => response.contentType?.startsWith(m));
    if (!type) return { ok: false, operation, errors: [`${operation} ${status}: content type ${response.contentType ?? 'none'} is not one of ${media.join(', ')}`] };
    if (!declared.content![type].schema) return { ok: true, operation };
    return this.check(operation, `${pointer}/content/${escape(type)}/schema`, response, media);
  }

  private check(operation: string, pointer: string, response: ResponseToCheck, media: string[]): ContractResult {
    if (response.contentType && !media.some((m) => response.contentType!.startsWith(m))) {
      return { ok: false, operation, errors: [`${operation} ${response.status}: content type ${response.contentType} is not one of ${media.join(', ')}`] };
    }
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${SPEC_ID}${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (validate(response.body)) return { ok: true, operation };
    return {
      ok: false,
      operation,
      errors: (validate.errors ?? []).slice(0, 20).map((e) => `${operation} ${response.status}: ${e.instancePath || '/'} ${e.message} (${e.schemaPath})`),
    };
  }
}

/** JSON pointer escaping of one reference token. */
function escape(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
