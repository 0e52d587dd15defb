import type { JSONWebKeySet } from 'jose';

/** Injection token of the {@link LocalIssuer}, provided only when one runs in this process. */
export const LOCAL_ISSUER = Symbol('LOCAL_ISSUER');

/**
 * An authorization server running in this process (`OAUTH_SERVER=builtin`),
 * whose issuer is this server's base URL. The resource server trusts it like a
 * configured issuer, but reads its public keys here instead of fetching its
 * JWKS over HTTP, and asks it whether the grant a token came from still
 * stands, so that a revocation takes effect before the token expires. The
 * authorization server implements this; `auth/` does not depend on it.
 */
export interface LocalIssuer {
  /** The public keys its access tokens may be signed with. */
  jwks(): JSONWebKeySet;
  /** False once the grant (`grant_id` claim) was revoked or has expired. */
  grantActive(grantId: string): Promise<boolean>;
}
