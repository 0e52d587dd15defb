import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module';
import { LockoutModule } from '../throttle/lockout.module';
import { ApiKeyStrategy } from './api-key.strategy';
import { AuthAttemptsService } from './auth-attempts.service';
import { AuthGuard } from './auth.guard';
import { BasicStrategy } from './basic.strategy';
import { BearerStrategy } from './bearer.strategy';
import { CredentialsModule } from './credentials.module';
import { OAuthAuthenticationService } from './oauth/oauth-authentication.service';
import { OAuthTokenVerifier } from './oauth/oauth-token.verifier';
import { ProtectedResourceController } from './protected-resource.controller';
import { ProtectedResourceService } from './protected-resource.service';
import { StaticTokenService } from './static-token.service';

/** Who is calling, on every request of the MCP app (a global guard), and this server's OAuth protected-resource metadata. */
@Module({
  imports: [PassportModule, CredentialsModule, AuditModule, LockoutModule],
  controllers: [ProtectedResourceController],
  providers: [
    StaticTokenService,
    ProtectedResourceService,
    OAuthTokenVerifier,
    OAuthAuthenticationService,
    BearerStrategy,
    ApiKeyStrategy,
    BasicStrategy,
    AuthAttemptsService,
    AuthGuard,
  ],
  exports: [StaticTokenService, ProtectedResourceService, CredentialsModule, AuthAttemptsService, AuthGuard],
})
export class AuthModule {}
