import { DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import type { AppConfig } from './config/app-config';
import { CoreModule } from './core.module';
import { StdioService } from './transport/stdio.service';

/**
 * `portico stdio`: the shared core plus the stdio transport. No HTTP, no
 * sessions, no auth (the caller is the local user who started the process),
 * so no bearer token is loaded or generated. Composition only.
 */
@Module({})
export class StdioAppModule {
  /** `modules`: extra modules to compose in (a deployment's own tool modules, tests). */
  static forRoot(config: AppConfig, modules: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: StdioAppModule,
      imports: [CoreModule.forRoot(config, modules)],
      providers: [StdioService],
    };
  }
}
