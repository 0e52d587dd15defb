/** How a caller proved who it is. */
export type AuthMethod = 'bearer' | 'api_key' | 'basic' | 'oauth' | 'none' | 'stdio';

/**
 * Who is calling. Every authenticated request yields one; tools see it in
 * {@link ToolContext.principal}. Never carries the credential itself.
 */
export interface Principal {
  /** Stable identifier, e.g. `token:ci-bot`. Used for session binding and audit. */
  id: string;
  kind: 'user' | 'service' | 'anonymous';
  displayName: string;
  /** Granted scopes; `*` grants every scope. */
  scopes: string[];
  authMethod: AuthMethod;
}

export function hasScopes(principal: Principal, required: readonly string[]): boolean {
  return principal.scopes.includes('*') || required.every((s) => principal.scopes.includes(s));
}
