import { DynamicModule, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { getDataSourceToken } from '@nestjs/typeorm';
import { McpRegistry } from '@portico/mcp-core';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { loggerModule } from '../common/logger.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ReadinessRegistry } from '../health/readiness.registry';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from '../metrics/metrics.service';
import { SESSION_STORE } from '../session/session-store.interface';
import { LiveSessionRegistry } from '../transport/live-session.registry';
import { ModernHandlerService } from '../transport/modern-handler.service';
import { AdminGuard, MetricsGuard } from './admin.guard';
import { AuditBacklogHealthIndicator } from './audit-backlog.health';
import { AuditController } from './audit.controller';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { OpenApiController, StatusOpenApi } from './openapi.controller';
import { ReadinessService } from './readiness.service';
import { SessionStoreHealthIndicator } from './session-store.health';
import { StatusController } from './status.controller';
import { StatusTokens } from './status-tokens';

const LIFECYCLE_HOOKS = new Set<PropertyKey>(['onModuleInit', 'onApplicationBootstrap', 'onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown']);

/**
 * A main-app instance for the status app's container, without its lifecycle
 * hooks: Nest calls the hooks of every provider instance of an app, value
 * providers included, and these belong to the main app (registered as tool
 * call listeners once, shut down by it, not by the status app).
 */
function borrowed<T extends object>(instance: T): T {
  return new Proxy(instance, { get: (target, key) => (LIFECYCLE_HOOKS.has(key) ? undefined : Reflect.get(target, key, target)) });
}

/**
 * The status app: a second Nest application in the same process, on
 * STATUS_PORT. It borrows the main app's live services (data source, session
 * store, audit writer, metrics, session registry, lifecycle: no second pool)
 * and serves no MCP. Health and the public status view are open; the full
 * status, sessions, tools, metrics and audit need tokens (see
 * docs/operations.md). Bind it to an internal interface.
 */
@Module({})
export class StatusModule {
  static forMainApp(main: INestApplication, config: AppConfig): DynamicModule {
    const dataSource = main.get<DataSource>(getDataSourceToken());
    const shared = [SESSION_STORE, AuditService, MetricsService, LiveSessionRegistry, ModernHandlerService, LifecycleService, ReadinessRegistry, McpRegistry];
    return {
      module: StatusModule,
      imports: [TerminusModule.forRoot({ logger: false }), loggerModule(config)],
      controllers: [HealthController, StatusController, MetricsController, AuditController, OpenApiController],
      providers: [
        { provide: DataSource, useValue: dataSource },
        { provide: getDataSourceToken(), useValue: dataSource },
        { provide: APP_CONFIG, useValue: config },
        ...shared.map((token) => ({ provide: token, useValue: borrowed(main.get(token as never, { strict: false }) as object) })),
        StatusTokens,
        AdminGuard,
        MetricsGuard,
        SessionStoreHealthIndicator,
        AuditBacklogHealthIndicator,
        ReadinessService,
        StatusOpenApi,
      ],
    };
  }
}
