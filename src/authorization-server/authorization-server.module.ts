import { Global, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { LOCAL_ISSUER } from '../auth/oauth/local-issuer';
import { ACCOUNT_VERIFIER } from './account-verifier';
import { AuthorizationServerService } from './authorization-server.service';
import { GrantsService } from './grants.service';
import { InteractionController } from './interaction.controller';
import { KeyStoreService } from './key-store.service';
import { MemoryRateLimiter, RATE_LIMITER } from './rate-limiter';
import { StaticTokenAccountVerifier } from './static-token-account.verifier';

/**
 * The built-in authorization server (`OAUTH_SERVER=builtin`): composed into
 * the HTTP app only when on. Global so that the resource server in `auth/`
 * finds the {@link LOCAL_ISSUER} it provides without depending on this module.
 *
 * Sign-in goes through {@link ACCOUNT_VERIFIER}: static tokens for now; the
 * database users and API keys plug in here once they exist.
 */
@Global()
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [InteractionController],
  providers: [
    KeyStoreService,
    GrantsService,
    AuthorizationServerService,
    { provide: LOCAL_ISSUER, useExisting: AuthorizationServerService },
    { provide: ACCOUNT_VERIFIER, useClass: StaticTokenAccountVerifier },
    { provide: RATE_LIMITER, useFactory: () => new MemoryRateLimiter() },
  ],
  exports: [LOCAL_ISSUER, AuthorizationServerService, GrantsService],
})
export class AuthorizationServerModule {}
