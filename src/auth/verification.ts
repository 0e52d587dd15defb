import type { Principal } from '@portico/mcp-core';

/** Why a presented credential was refused: for the audit log and the lockout, never for the client. */
export type AuthFailureReason =
  /** The header or key does not have the expected shape. */
  | 'malformed'
  /** A bearer token that is neither a static token nor an API key. */
  | 'unknown_token'
  | 'unknown_key'
  /** The key's prefix exists but the rest does not match. */
  | 'bad_secret'
  | 'revoked'
  | 'expired'
  | 'unknown_user'
  | 'bad_password'
  | 'disabled'
  /** An OAuth access token the OAuth service refused (it audits the precise reason itself). */
  | 'oauth_refused';

/**
 * The outcome of checking one credential. `account` names what was claimed
 * (`user:alice`, `key:ptk_1a2b3c4d`), also when the check failed, so the
 * audit log and the lockout can refer to it; it never holds a secret.
 */
export type Verification =
  | { ok: true; principal: Principal; account: string }
  | { ok: false; reason: AuthFailureReason; account?: string };

/** Who performs an administrative act (create a key, disable a user), for `created_by` and the audit log. */
export interface Actor {
  /** A principal id, or `cli:<os user>` for the `portico` command. */
  id: string;
  authMethod: string;
}

/** A refused administrative request (unknown user, bad name...); `message` is safe to show. */
export class CredentialsError extends Error {
  constructor(
    readonly code: 'not_found' | 'exists' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'CredentialsError';
  }
}

const SCOPE = /^[A-Za-z0-9_.:/-]{1,64}$/;

/**
 * Scopes as an operator writes them (`a,b` or `*`): trimmed, deduplicated,
 * each `[A-Za-z0-9_.:/-]`, or `*` alone for every scope.
 */
export function parseScopes(text: string | undefined): string[] {
  const scopes = [...new Set((text ?? '').split(/[,\s]+/).filter(Boolean))];
  if (scopes.includes('*')) {
    if (scopes.length > 1) throw new CredentialsError('invalid', '"*" grants every scope: give it alone');
    return scopes;
  }
  const bad = scopes.find((s) => !SCOPE.test(s));
  if (bad !== undefined) throw new CredentialsError('invalid', `invalid scope "${bad.slice(0, 64)}": use letters, digits and _.:/-`);
  return scopes;
}
