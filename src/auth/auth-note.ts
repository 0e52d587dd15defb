import type { Principal } from '@portico/mcp-core';
import type { Request } from 'express';
import type { AuthAttempt } from './auth-attempts.service';
import type { AuthFailureReason, Verification } from './verification';

/** How the credential came: `Authorization: Bearer`, `Authorization: Basic` or `X-API-Key`. */
export type CredentialCarrier = 'bearer' | 'basic' | 'x-api-key';

/** What a strategy leaves on the request for the guard: the attempt and, when refused, why. */
export interface AuthNote {
  via: CredentialCarrier;
  attempt: AuthAttempt;
  reason?: AuthFailureReason;
}

const NOTE = Symbol('portico:auth-note');

export function noteOf(req: Request): AuthNote | undefined {
  return (req as Request & { [NOTE]?: AuthNote })[NOTE];
}

/**
 * Records a verification on the request and returns what a passport
 * `validate` returns: the principal, or false to let the next strategy try.
 */
export function settle(req: Request, via: CredentialCarrier, method: AuthAttempt['method'], result: Verification): Principal | false {
  const note: AuthNote = { via, attempt: { method, account: result.account }, reason: result.ok ? undefined : result.reason };
  (req as Request & { [NOTE]?: AuthNote })[NOTE] = note;
  return result.ok ? result.principal : false;
}

/**
 * Records an OAuth access token's outcome. The OAuth service has audited it
 * already (per token, with its own reasons), and a refused token is no guess
 * (an expired one is routine: the client refreshes): the guard neither audits
 * nor counts it again.
 */
export function settleOAuth(req: Request, principal: Principal | undefined): Principal | false {
  return settle(req, 'bearer', 'oauth', principal ? { ok: true, principal, account: principal.id } : { ok: false, reason: 'oauth_refused' });
}
