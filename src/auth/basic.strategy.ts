import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Principal } from '@portico/mcp-core';
import type { Request } from 'express';
import { BasicStrategy as PassportBasic } from 'passport-http';
import { settle } from './auth-note';
import { AUTH_REALM } from './auth.constants';
import { UsersService } from './users.service';

/**
 * The user name and password of an `Authorization: Basic` header (RFC
 * 7617: split at the first colon, so the password may hold colons), or
 * undefined when it is not a Basic header.
 */
export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `Authorization: Basic`, against the users (database and `AUTH_BASIC_USERS`). */
@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasic, 'basic') {
  constructor(private readonly users: UsersService) {
    super({ realm: AUTH_REALM, passReqToCallback: true });
  }

  async validate(req: Request): Promise<Principal | false> {
    // passport-http 0.3.0 cuts the password at its first colon; take both parts from the header again.
    const credentials = parseBasic(req.headers.authorization);
    if (!credentials) return settle(req, 'basic', 'basic', { ok: false, reason: 'malformed' });
    return settle(req, 'basic', 'basic', await this.users.verifyPassword(credentials.username, credentials.password));
  }
}
