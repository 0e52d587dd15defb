import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Principal } from '@portico/mcp-core';
import { Strategy } from 'passport-http-bearer';
import { AUTH_REALM } from './auth.constants';
import { OAuthAuthenticationService } from './oauth/oauth-authentication.service';
import { StaticTokenService } from './static-token.service';

export { AUTH_REALM };

/** `Authorization: Bearer <token>`: an OAuth access token (a JWT, when OAuth is configured), else a static token. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(
    private readonly tokens: StaticTokenService,
    private readonly oauth: OAuthAuthenticationService,
  ) {
    super({ realm: AUTH_REALM });
  }

  async validate(token: string): Promise<Principal | false> {
    if (this.oauth.accepts(token)) return (await this.oauth.authenticate(token)) ?? false;
    return this.tokens.verify(token) ?? false;
  }
}
