import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuditService } from '../audit/audit.service';
import { ApiKeyService } from '../auth/api-key.service';
import { CredentialsModule } from '../auth/credentials.module';
import { osUserName } from '../auth/local-principal';
import { UsersService } from '../auth/users.service';
import type { Actor } from '../auth/verification';
import { nestLogger } from '../common/logger.module';
import type { AppConfig } from '../config/app-config';
import { CoreModule } from '../core.module';

/** The core (database, audit) plus the credential services, without HTTP. Composition only. */
@Module({})
class CredentialsCliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: CredentialsCliModule, imports: [CoreModule.forRoot(config), CredentialsModule] };
  }
}

export interface CredentialsContext {
  keys: ApiKeyService;
  users: UsersService;
  /** The operating-system user running the command: `cli:<name>` in `created_by` and the audit log. */
  actor: Actor;
}

/**
 * Runs `work` with the same database as the app (PostgreSQL from
 * DATABASE_URL, else the embedded one in DATA_DIR, migrated first as the app
 * does) and the same audit log, then closes everything, flushing the audit
 * events. The embedded database admits one process: with a running
 * `portico serve` on the same DATA_DIR this fails, naming that process.
 * Quiet unless LOG_LEVEL is set.
 */
export async function withCredentials<T>(config: AppConfig, work: (ctx: CredentialsContext) => Promise<T>): Promise<T> {
  const quiet: AppConfig = { ...config, log: { level: process.env.LOG_LEVEL ? config.log.level : 'warn' } };
  const app = await NestFactory.createApplicationContext(CredentialsCliModule.forRoot(quiet), {
    logger: nestLogger(quiet),
    abortOnError: false,
  });
  try {
    return await work({ keys: app.get(ApiKeyService), users: app.get(UsersService), actor: { id: `cli:${osUserName()}`, authMethod: 'cli' } });
  } finally {
    // Before close: at shutdown the data source may go before the audit writer's last flush.
    await app.get(AuditService).flush();
    await app.close();
  }
}
