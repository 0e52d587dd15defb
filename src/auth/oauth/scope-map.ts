import type { ScopeMapping } from '../../config/app-config';

/** The last path segment of a URI-shaped scope (`api://portico/tools.read` → `tools.read`), else undefined. */
function shortName(external: string): string | undefined {
  const slash = external.lastIndexOf('/');
  return external.includes('://') && slash < external.length - 1 ? external.slice(slash + 1) : undefined;
}

/**
 * The Portico scopes a token's scopes grant. A scope named in
 * `OAUTH_SCOPE_MAP` grants the Portico scope it maps to; any other scope is
 * kept as it is. A URI-shaped IdP scope also matches its last path segment,
 * because Entra ID requests `api://portico/tools.read` but puts only
 * `tools.read` in the token's `scp`.
 */
export function porticoScopes(tokenScopes: readonly string[], map: readonly ScopeMapping[]): string[] {
  const granted = new Set<string>();
  for (const scope of tokenScopes) {
    const mapped = map.filter((m) => m.external === scope || shortName(m.external) === scope);
    if (mapped.length) mapped.forEach((m) => granted.add(m.portico));
    else granted.add(scope);
  }
  return [...granted];
}

/** The name a client requests `scope` by at the identity provider: the first OAUTH_SCOPE_MAP entry granting it, else the scope itself. */
export function externalScope(scope: string, map: readonly ScopeMapping[]): string {
  return map.find((m) => m.portico === scope)?.external ?? scope;
}
