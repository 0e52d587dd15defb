import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { INestApplication } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { loggerModule } from '../common/logger.module';
import { OpenProjectHealthIndicator } from '../integrations/openproject/openproject.health';
import { SESSION_STORE } from '../session/session-store.interface';
import { AdminGuard } from './admin.guard';
import { AuditController } from './audit.controller';
import { HealthController } from './health.controller';
import { SessionStoreHealthIndicator } from './session-store.health';

/**
 * The status app: a second Nest application in the same process, on
 * STATUS_PORT. It borrows the main app's live data source and session store
 * (no second pool) and has no MCP. Health is open; administrative routes
 * (audit) need STATUS_ADMIN_TOKEN. Bind it to an internal interface.
 */
@Module({})
export class StatusModule {
  static forMainApp(main: INestApplication, config: AppConfig): DynamicModule {
    const dataSource = main.get<DataSource>(getDataSourceToken());
    return {
      module: StatusModule,
      imports: [TerminusModule.forRoot({ logger: false }), loggerModule(config)],
      controllers: [HealthController, AuditController],
      providers: [
        { provide: DataSource, useValue: dataSource },
        { provide: getDataSourceToken(), useValue: dataSource },
        { provide: SESSION_STORE, useValue: main.get(SESSION_STORE) },
        // Composed in the main app only when OPENPROJECT_URL is set.
        { provide: OpenProjectHealthIndicator, useValue: config.openproject ? main.get(OpenProjectHealthIndicator, { strict: false }) : null },
        { provide: APP_CONFIG, useValue: config },
        AdminGuard,
        SessionStoreHealthIndicator,
      ],
    };
  }
}
