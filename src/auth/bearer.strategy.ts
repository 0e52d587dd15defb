import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Principal } from '@portico/mcp-core';
import type { Request } from 'express';
import { Strategy } from 'passport-http-bearer';
import { ApiKeyService, looksLikeApiKey } from './api-key.service';
import { AUTH_REALM } from './auth.constants';
import { settle, settleOAuth } from './auth-note';
import { OAuthAuthenticationService } from './oauth/oauth-authentication.service';
import { StaticTokenService } from './static-token.service';

export { AUTH_REALM };

/**
 * `Authorization: Bearer <token>`: an OAuth access token (a JWT, when OAuth
 * is configured), else a static token (`AUTH_TOKENS`, all scopes), else an
 * API key (`ptk_…`, its own scopes).
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(
    private readonly tokens: StaticTokenService,
    private readonly oauth: OAuthAuthenticationService,
    private readonly keys: ApiKeyService,
  ) {
    super({ realm: AUTH_REALM, passReqToCallback: true });
  }

  async validate(req: Request, token: string): Promise<Principal | false> {
    if (this.oauth.accepts(token)) return settleOAuth(req, await this.oauth.authenticate(token));
    const principal = this.tokens.verify(token);
    if (principal) return settle(req, 'bearer', 'bearer', { ok: true, principal, account: principal.id });
    if (looksLikeApiKey(token)) return settle(req, 'bearer', 'api_key', await this.keys.verify(token));
    return settle(req, 'bearer', 'bearer', { ok: false, reason: 'unknown_token' });
  }
}
