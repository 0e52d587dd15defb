import { DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { McpCoreModule } from '@portico/mcp-core';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { loggerModule } from './common/logger.module';
import type { AppConfig } from './config/app-config';
import { PACKAGE_VERSION } from './common/paths';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { RootController } from './health/root.controller';
import { SessionModule } from './session/session.module';
import { TimeModule } from './tools/time/time.module';
import { TransportModule } from './transport/transport.module';

/** Composition only. Tool modules are listed last: importing one registers its tools. */
@Module({})
export class AppModule {
  /** `modules`: extra modules to compose in (a deployment's own tool modules, tests). */
  static forRoot(config: AppConfig, modules: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        loggerModule(config),
        DatabaseModule,
        McpCoreModule.forRoot({
          server: {
            name: 'portico',
            title: 'Portico',
            version: PACKAGE_VERSION,
            instructions: 'Portico serves tools from this organisation\'s systems. Every call is recorded in an audit log.',
          },
          defaultTimeoutMs: config.tools.timeoutMs,
        }),
        SessionModule,
        AuthModule,
        AuditModule,
        TransportModule.forRoot(config),
        TimeModule,
        ...modules,
      ],
      controllers: [RootController],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
