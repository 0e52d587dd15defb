import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Principal } from '@portico/mcp-core';
import { Strategy } from 'passport-http-bearer';
import { StaticTokenService } from './static-token.service';

export const AUTH_REALM = 'Portico';

/** `Authorization: Bearer <token>` against the static tokens. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly tokens: StaticTokenService) {
    super({ realm: AUTH_REALM });
  }

  validate(token: string): Principal | false {
    return this.tokens.verify(token) ?? false;
  }
}
