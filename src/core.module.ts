import { DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { McpCoreModule } from '@portico/mcp-core';
import { AuditModule } from './audit/audit.module';
import { loggerModule } from './common/logger.module';
import { PACKAGE_VERSION } from './common/paths';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { ReadinessModule } from './health/readiness.module';
import { OpenProjectModule } from './integrations/openproject/openproject.module';
import { ConformanceModule } from './tools/conformance/conformance.module';
import * as toolModules from './tools/tool-modules';

/** Every module `src/tools/tool-modules.ts` exports. */
const TOOL_MODULES = Object.values(toolModules).filter((m) => typeof m === 'function');

/**
 * What every way of serving Portico shares: configuration, logging, the
 * database, the tool registry with its tools, and the audit log. The HTTP app
 * (`AppModule`) and `portico stdio` (`StdioAppModule`) each add
 * their transport on top. Composition only. Tool modules come last, from
 * `src/tools/tool-modules.ts` (one export line each): importing one
 * registers its tools.
 */
@Module({})
export class CoreModule {
  /** `modules`: extra modules to compose in (a deployment's own tool modules, tests). */
  static forRoot(config: AppConfig, modules: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(config),
        loggerModule(config),
        DatabaseModule,
        ReadinessModule,
        McpCoreModule.forRoot({
          server: {
            name: 'portico',
            title: 'Portico',
            version: PACKAGE_VERSION,
            instructions: 'Portico serves tools from this organisation\'s systems. Every call is recorded in an audit log.',
          },
          defaultTimeoutMs: config.tools.timeoutMs,
          maxResultBytes: config.tools.maxResultBytes,
          requestState: config.requestState,
        }),
        AuditModule,
        ...TOOL_MODULES,
        ...(config.tools.conformanceFixtures ? [ConformanceModule] : []),
        ...(config.openproject ? [OpenProjectModule.forRoot(config)] : []),
        ...modules,
      ],
    };
  }
}
