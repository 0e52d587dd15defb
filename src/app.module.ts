import { DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { AuthorizationServerModule } from './authorization-server/authorization-server.module';
import { HttpExceptionFilter } from './common/http-exception.filter';
import type { AppConfig } from './config/app-config';
import { CoreModule } from './core.module';
import { RootController } from './health/root.controller';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';
import { SessionModule } from './session/session.module';
import { RateLimitGuard } from './throttle/rate-limit.guard';
import { ThrottleModule } from './throttle/throttle.module';
import { TransportModule } from './transport/transport.module';

/**
 * The HTTP app: the shared core plus sessions, metrics, auth (and the built-in
 * authorization server when on), rate limits and `/mcp`. Composition only.
 */
/**
 * The HTTP app's global guards, in the order they run: who is calling, then
 * the rate limits (per principal). `/mcp`, served ahead of Nest's router,
 * runs this same list (transport/http-pipeline.ts).
 */
export const GLOBAL_GUARDS = [AuthGuard, RateLimitGuard] as const;

@Module({})
export class AppModule {
  /** `modules`: extra modules to compose in (a deployment's own tool modules, tests). */
  static forRoot(config: AppConfig, modules: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, modules),
        RedisModule.forRoot(config),
        SessionModule,
        MetricsModule,
        LifecycleModule,
        AuthModule,
        ...(config.authorizationServer.enabled ? [AuthorizationServerModule] : []),
        ThrottleModule.forRoot(config),
        TransportModule.forRoot(config),
      ],
      controllers: [RootController],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }, ...GLOBAL_GUARDS.map((guard) => ({ provide: APP_GUARD, useExisting: guard }))],
    };
  }
}
