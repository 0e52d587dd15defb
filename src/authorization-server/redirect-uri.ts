/** Claude's connector callbacks: a client registered with one may come back on the other (claude.ai moving to claude.com). */
export const CLAUDE_CALLBACKS = ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * RFC 8252 §7.3: a native client's loopback redirect may use any port, so
 * `http://127.0.0.1:54321/callback` matches a registered
 * `http://127.0.0.1/callback` (or one with another port): same scheme
 * (`http:`), same loopback host, same path and query. oidc-provider ignores
 * the port only for `application_type: native`, which Claude Code's client
 * metadata and most DCR clients leave out.
 */
export function sameLoopbackIgnoringPort(presented: string, registered: string): boolean {
  const a = URL.parse(presented);
  const b = URL.parse(registered);
  if (!a || !b || a.protocol !== 'http:' || b.protocol !== 'http:') return false;
  if (!LOOPBACK_HOSTS.has(a.hostname) || a.hostname !== b.hostname) return false;
  if (a.username || a.password || b.username || b.password || a.hash || b.hash) return false;
  return a.pathname === b.pathname && a.search === b.search;
}

/** The other Claude callback when `registered` holds one of them, and `presented` is that other one. */
export function claudeCallbackPair(presented: string, registered: readonly string[]): boolean {
  return CLAUDE_CALLBACKS.includes(presented) && registered.some((r) => CLAUDE_CALLBACKS.includes(r));
}

/** Whether a redirect URI not matched exactly is still allowed for a client with `registered` URIs. */
export function redirectUriAllowedBeyondExact(presented: string, registered: readonly string[]): boolean {
  return registered.some((r) => sameLoopbackIgnoringPort(presented, r)) || claudeCallbackPair(presented, registered);
}
