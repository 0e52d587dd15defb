import { Injectable } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import { createHash } from 'node:crypto';
import { StaticTokenService } from '../auth/static-token.service';
import type { AccountVerification, AccountVerifier } from './account-verifier';

/**
 * Sign-in with a static token (`AUTH_TOKENS`, or the generated one) as the
 * "API key"; no user passwords yet. Replaced by an implementation over the
 * database users and API keys once those exist (see {@link AccountVerifier}).
 */
@Injectable()
export class StaticTokenAccountVerifier implements AccountVerifier {
  readonly passwords = false;

  constructor(private readonly tokens: StaticTokenService) {}

  async verifyPassword(username: string): Promise<AccountVerification> {
    return { ok: false, reason: 'unknown_user', account: `user:${username.slice(0, 64)}` };
  }

  async verifyKey(key: string): Promise<AccountVerification> {
    const principal = this.tokens.verify(key);
    if (principal) return { ok: true, principal, account: principal.id };
    // A short digest names the attempt in the audit log without the secret.
    return { ok: false, reason: 'unknown_token', account: `key:sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)}` };
  }

  async findAccount(principalId: string): Promise<Principal | undefined> {
    return this.tokens.principalById(principalId);
  }
}
