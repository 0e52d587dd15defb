import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { localPrincipal } from '../auth/local-principal';
import { GrantsService } from '../authorization-server/grants.service';
import { KeyStoreService } from '../authorization-server/key-store.service';
import { nestLogger } from '../common/logger.module';
import type { AppConfig } from '../config/app-config';
import { CoreModule } from '../core.module';

const USAGE = `Usage:
  portico oauth grants [--account <principal id>]
      lists the consents the built-in authorization server remembers: grant id, account, client, scopes, expiry
  portico oauth revoke <grant-id>
      revokes one: its refresh tokens and codes are deleted, its access tokens refused (at once on
      restart, within 10 s on running instances); the client must ask the user again
  portico oauth rotate-keys
      publishes a new signing key now; it signs from five minutes on, the previous one stays published
`;

/** The core (database, audit) plus the authorization server's stored state, without HTTP. Composition only. */
@Module({})
class OAuthCliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: OAuthCliModule, imports: [CoreModule.forRoot(config)], providers: [GrantsService, KeyStoreService] };
  }
}

/** `portico oauth grants|revoke|rotate-keys`: administration of the built-in authorization server. */
export async function oauth(config: AppConfig, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (!['grants', 'revoke', 'rotate-keys'].includes(sub ?? '') || (sub === 'revoke' && !rest[0])) {
    process.stderr.write(USAGE);
    process.exitCode = 2;
    return;
  }
  const quiet: AppConfig = { ...config, log: { level: process.env.LOG_LEVEL ? config.log.level : 'warn' } };
  const app = await NestFactory.createApplicationContext(OAuthCliModule.forRoot(quiet), { logger: nestLogger(quiet), abortOnError: false });
  try {
    const grants = app.get(GrantsService);
    if (sub === 'grants') {
      const account = rest[0] === '--account' ? rest[1] : undefined;
      for (const g of await grants.list(account)) {
        process.stdout.write(
          [g.grantId, g.accountId, g.clientName ? `${g.clientName} (${g.clientId})` : g.clientId, g.scopes.join(' ') || '-', g.expiresAt?.toISOString() ?? '-'].join('\t') + '\n',
        );
      }
    } else if (sub === 'revoke') {
      const actor = { id: `cli:${localPrincipal().displayName}`, authMethod: 'cli' };
      if (await grants.revoke(rest[0], actor)) process.stdout.write(`revoked ${rest[0]}\n`);
      else {
        process.stderr.write(`portico: no grant ${rest[0]}\n`);
        process.exitCode = 1;
      }
    } else {
      const kid = await app.get(KeyStoreService).rotateNow();
      process.stdout.write(`published signing key ${kid}; it signs from five minutes on\n`);
    }
  } finally {
    await app.close();
  }
}
