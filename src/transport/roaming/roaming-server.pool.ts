import type { McpServer } from '@modelcontextprotocol/server';
import type { McpRegistry, McpServerBuilder, Principal } from '@portico/mcp-core';
import type { SessionRecord } from '../../session/session-store.interface';
import { replayHandshake } from './handshake-replay';

/** Sessions whose last server waits here; the least recently served goes first. */
const MAX_SESSIONS = 256;

interface Idle {
  server: McpServer;
  /** The log level its handshake replay (or the session's own `logging/setLevel` here) left on it, as the record said. */
  logLevel: string | undefined;
}

/**
 * The server a roaming session's last request on this instance used, kept
 * for its next one. Without it every POST builds a server (every tool the
 * principal may use) and replays the session's handshake into it
 * ({@link replayHandshake}): more than the rest of the request. A kept
 * server is only a cache of what the record says: it is used again only
 * while the record's log level is the one it was prepared with (another
 * instance may have changed it), serves as the principal of the request,
 * and any registry change empties the pool. Nothing here is needed to serve
 * a session: any instance still serves any session.
 *
 * One idle server per session; a second concurrent request of the same
 * session builds its own, and only one of them comes back.
 */
export class RoamingServerPool {
  private readonly idle = new Map<string, Idle>();
  private generation = 0;

  constructor(
    private readonly builder: McpServerBuilder,
    registry: McpRegistry,
    private readonly requestId: () => string | undefined,
  ) {
    registry.onChange(() => this.clear());
  }

  /** A server holding `record`'s handshake, serving as `principal`; give it back with {@link release}. */
  async acquire(record: SessionRecord, principal: Principal): Promise<{ server: McpServer; release: () => void }> {
    const kept = this.idle.get(record.id);
    this.idle.delete(record.id);
    let server: McpServer;
    if (kept && kept.logLevel === record.logLevel) {
      server = kept.server;
      this.builder.usePrincipal(server, principal);
    } else {
      server = this.builder.build({ principal, era: 'legacy', sessionId: record.id, requestId: this.requestId });
      await replayHandshake(server, { initialize: record.initialize!, logLevel: record.logLevel });
    }
    const generation = this.generation;
    return { server, release: () => this.release(record, server, generation) };
  }

  /** Keeps the server that just answered `record`'s `initialize` (it holds the handshake already). */
  keep(record: SessionRecord, server: McpServer): void {
    this.release(record, server, this.generation);
  }

  /** Forgets a session's server (the session ended). */
  forget(sessionId: string): void {
    this.idle.delete(sessionId);
  }

  /** Forgets every server (the registry changed). */
  clear(): void {
    this.generation++;
    this.idle.clear();
  }

  /** Sessions with a server waiting, for tests. */
  get size(): number {
    return this.idle.size;
  }

  private release(record: SessionRecord, server: McpServer, generation: number): void {
    // A handler still running (the client left mid-call) keeps its server: it must not serve another request.
    if (generation !== this.generation || server.isConnected() || this.builder.busy(server) || this.idle.has(record.id)) return;
    if (this.idle.size >= MAX_SESSIONS) this.idle.delete(this.idle.keys().next().value!);
    this.idle.set(record.id, { server, logLevel: record.logLevel });
  }
}
