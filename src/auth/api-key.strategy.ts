import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Principal } from '@portico/mcp-core';
import type { Request } from 'express';
import { Strategy as PassportBase } from 'passport';
import { ApiKeyService } from './api-key.service';
import { settle } from './auth-note';

type Verify = (req: Request, key: string, done: (err: unknown, user?: Principal | false) => void) => void;

/** Passes the `X-API-Key` header to `verify`; fails without a challenge when the header is absent. */
class HeaderKeyStrategy extends PassportBase {
  constructor(private readonly verify: Verify) {
    super();
  }

  authenticate(req: Request): void {
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || !key) return this.fail(401);
    this.verify(req, key.trim(), (err, user) => (err ? this.error(err) : user ? this.success(user) : this.fail(401)));
  }
}

/** `X-API-Key: <key>`, as MetaMCP and scripts send API keys. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(HeaderKeyStrategy, 'api-key') {
  constructor(private readonly keys: ApiKeyService) {
    super();
  }

  async validate(req: Request, key: string): Promise<Principal | false> {
    return settle(req, 'x-api-key', 'api_key', await this.keys.verify(key));
  }
}
