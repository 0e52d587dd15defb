import type { McpServer } from '@modelcontextprotocol/server';
import type { McpServerBuilder, Principal } from '@portico/mcp-core';

/** Idle servers kept per scope set: enough for the concurrency one instance serves. */
const MAX_IDLE_PER_SCOPES = 32;
/** Scope sets with idle servers; the least recently used set goes first. */
const MAX_SCOPE_SETS = 64;

/** Keys already computed, per scopes array (a principal's scopes do not change; cached principals share theirs). */
const scopeKeys = new WeakMap<readonly string[], string>();

/** What a server offers depends on the principal's scopes only: servers are shared by principals with the same set. */
export function scopeKey(scopes: readonly string[]): string {
  if (scopes.length <= 1) return scopes[0] ?? '';
  let key = scopeKeys.get(scopes);
  if (key === undefined) scopeKeys.set(scopes, (key = [...new Set(scopes)].sort().join(' ')));
  return key;
}

/**
 * Prebuilt `McpServer`s for the modern era. The SDK's `createMcpHandler`
 * asks its factory for a server per request; building one (every tool,
 * resource and prompt the principal may use, registered with its schema and
 * handler) cost more than the rest of the request and grew with the tool
 * count. A finished server waits here, per scope set, for the next request
 * with the same scopes, which it then serves as its own principal.
 *
 * A server serves one exchange at a time: it is handed out idle and comes
 * back when the SDK closes its exchange, unless a handler of it still runs
 * (the client left mid-call) — then it is dropped. A registry change empties
 * the pool ({@link clear}); servers out at that moment are not taken back.
 */
export class ModernServerPool {
  private readonly idle = new Map<string, McpServer[]>();
  private generation = 0;

  constructor(
    private readonly builder: McpServerBuilder,
    private readonly requestId: () => string | undefined,
  ) {}

  /** A server for `principal`'s request: an idle one with the same scopes, else a new one. */
  acquire(principal: Principal): McpServer {
    const key = scopeKey(principal.scopes);
    const idle = this.idle.get(key);
    let server = idle?.pop();
    if (server) this.builder.usePrincipal(server, principal);
    else server = this.builder.build({ principal, era: 'modern', requestId: this.requestId });
    const generation = this.generation;
    const taken = server;
    // The SDK chains its own exchange teardown in front of this and calls it when the exchange closes.
    server.server.onclose = () => queueMicrotask(() => this.release(key, taken, generation));
    return server;
  }

  /** Forgets every idle server (the registry changed, or the handler closes). */
  clear(): void {
    this.generation++;
    this.idle.clear();
  }

  /** Idle servers now, for tests and metrics. */
  get size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  private release(key: string, server: McpServer, generation: number): void {
    if (generation !== this.generation || server.isConnected() || this.builder.busy(server)) return;
    let list = this.idle.get(key);
    if (list) {
      // Most recently used last: the first key is the one to evict.
      this.idle.delete(key);
    } else {
      list = [];
      if (this.idle.size >= MAX_SCOPE_SETS) this.idle.delete(this.idle.keys().next().value!);
    }
    this.idle.set(key, list);
    if (list.length < MAX_IDLE_PER_SCOPES) list.push(server);
  }
}
