import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module';
import { AuthGuard } from './auth.guard';
import { BearerStrategy } from './bearer.strategy';
import { OAuthAuthenticationService } from './oauth/oauth-authentication.service';
import { OAuthTokenVerifier } from './oauth/oauth-token.verifier';
import { ProtectedResourceController } from './protected-resource.controller';
import { ProtectedResourceService } from './protected-resource.service';
import { StaticTokenService } from './static-token.service';

/** Who is calling, on every request of the MCP app (a global guard), and this server's OAuth protected-resource metadata. */
@Module({
  imports: [PassportModule, AuditModule],
  controllers: [ProtectedResourceController],
  providers: [
    StaticTokenService,
    ProtectedResourceService,
    OAuthTokenVerifier,
    OAuthAuthenticationService,
    BearerStrategy,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [StaticTokenService, ProtectedResourceService],
})
export class AuthModule {}
