import type { Principal } from '@portico/mcp-core';

/** Injection token of the {@link AccountVerifier} the login page signs people in with. */
export const ACCOUNT_VERIFIER = Symbol('ACCOUNT_VERIFIER');

/**
 * The outcome of one sign-in attempt. `account` names what was claimed
 * (`user:alice`, `key:ptk_1a2b3c4d`), also when it failed, for the audit log and
 * the rate limit; it never holds a secret. (The same shape as the credential
 * services' `Verification` on the `auth-keys-basic` branch.)
 */
export type AccountVerification =
  | { ok: true; principal: Principal; account: string }
  | { ok: false; reason: string; account?: string };

/**
 * Who may sign in on the built-in authorization server's login page, and who
 * an account id issued earlier still stands for. The seam between the
 * authorization server and Portico's credentials: today it is
 * {@link StaticTokenAccountVerifier} (an "API key" is a static token from
 * AUTH_TOKENS, no passwords); once Portico users and API keys are in the
 * database, an implementation over `UsersService.verifyPassword` and
 * `ApiKeyService.verify` replaces it in `AuthorizationServerModule`, and
 * nothing else changes.
 */
export interface AccountVerifier {
  /** Whether the login page offers user name and password (there are users to sign in). */
  readonly passwords: boolean;
  verifyPassword(username: string, password: string): Promise<AccountVerification>;
  verifyKey(key: string): Promise<AccountVerification>;
  /**
   * The account behind a principal id signed in earlier (a token's `sub`), or
   * undefined when it no longer exists or is disabled: its grants then stop
   * yielding tokens.
   */
  findAccount(principalId: string): Promise<Principal | undefined>;
}
