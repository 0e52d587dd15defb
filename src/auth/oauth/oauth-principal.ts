import type { Principal } from '@portico/mcp-core';
import type { JWTPayload } from 'jose';
import type { ScopeMapping } from '../../config/app-config';
import { porticoScopes } from './scope-map';

/** Claims a verified access token is known to have (the verifier requires them). */
export type AccessTokenClaims = JWTPayload & { iss: string; sub: string; exp: number };

const DISPLAY_NAME_MAX = 128;

function strings(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

/**
 * The scopes a token carries: `scope` (RFC 9068: space-separated; Keycloak,
 * Auth0, the built-in server) and `scp` (Okta: an array; Entra ID: a
 * space-separated string), both read when both are present.
 */
export function tokenScopes(claims: JWTPayload): string[] {
  return [...new Set([...strings(claims.scope), ...strings(claims.scp)])];
}

/** The OAuth client the token was issued to: `client_id` (RFC 9068), `azp` (Keycloak, Auth0, Entra v2), `cid` (Okta), `appid` (Entra v1). */
export function tokenClientId(claims: JWTPayload): string | undefined {
  for (const claim of ['client_id', 'azp', 'cid', 'appid']) {
    const value = claims[claim];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}

/**
 * The principal a verified access token stands for. Its id is
 * `oauth:<iss>#<sub>`: the same for every token of the same subject from the
 * same issuer, so a refreshed token keeps its sessions. A token whose subject
 * is its own client (the client-credentials grant) is a service, any other a
 * user.
 */
export function oauthPrincipal(claims: AccessTokenClaims, scopeMap: readonly ScopeMapping[]): Principal {
  const name = ['name', 'preferred_username', 'email', 'upn'].map((c) => claims[c]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
  return {
    id: `oauth:${claims.iss}#${claims.sub}`,
    kind: claims.sub === tokenClientId(claims) ? 'service' : 'user',
    displayName: (name ?? claims.sub).slice(0, DISPLAY_NAME_MAX),
    scopes: porticoScopes(tokenScopes(claims), scopeMap),
    authMethod: 'oauth',
  };
}
