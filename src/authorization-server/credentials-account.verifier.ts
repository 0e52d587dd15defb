import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import { createHash } from 'node:crypto';
import { ApiKeyService, looksLikeApiKey } from '../auth/api-key.service';
import { StaticTokenService } from '../auth/static-token.service';
import { UsersService } from '../auth/users.service';
import type { AccountVerification, AccountVerifier } from './account-verifier';

/** How often the login page's "are there any users" answer is refreshed. */
const USERS_REFRESH_MS = 30_000;

/**
 * Sign-in on the built-in authorization server with Portico's credentials:
 * a user name and password (`UsersService`: database users and
 * AUTH_BASIC_USERS), or a key (`ApiKeyService` for `ptk_…` keys, else a
 * static token from AUTH_TOKENS). Accounts are the principal ids the guard
 * gives the same credentials: `user:<name>`, `key:<prefix>`, `token:<name>`.
 * A disabled user, a revoked or expired key, a token taken out of
 * AUTH_TOKENS: their grants stop yielding tokens.
 */
@Injectable()
export class CredentialsAccountVerifier implements AccountVerifier, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuthorizationServer');
  private hasUsers = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly users: UsersService,
    private readonly keys: ApiKeyService,
    private readonly tokens: StaticTokenService,
  ) {}

  /** The password form shows once anyone can use it (refreshed every 30 s: `portico users add` may run next to the server). */
  get passwords(): boolean {
    return this.hasUsers;
  }

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), USERS_REFRESH_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  verifyPassword(username: string, password: string): Promise<AccountVerification> {
    return this.users.verifyPassword(username, password);
  }

  async verifyKey(key: string): Promise<AccountVerification> {
    const principal = this.tokens.verify(key);
    if (principal) return { ok: true, principal, account: principal.id };
    if (looksLikeApiKey(key)) return this.keys.verify(key);
    // A short digest names the attempt in the audit log without the secret.
    return { ok: false, reason: 'unknown_token', account: `key:sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)}` };
  }

  async findAccount(principalId: string): Promise<Principal | undefined> {
    const colon = principalId.indexOf(':');
    const [kind, name] = [principalId.slice(0, colon), principalId.slice(colon + 1)];
    if (kind === 'user') return this.users.principalOf(name);
    if (kind === 'key') return this.keys.principalOf(name);
    if (kind === 'token') return this.tokens.principalById(principalId);
    return undefined;
  }

  /** Re-reads whether any user can sign in with a password (every 30 s on its own). */
  async refresh(): Promise<void> {
    try {
      this.hasUsers = await this.users.anyActive();
    } catch (e) {
      this.logger.warn({ err: e }, 'could not tell whether any user can sign in with a password');
    }
  }
}
