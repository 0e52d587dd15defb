import { LATEST_PROTOCOL_VERSION, type McpServer, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { McpRegistry, McpServerBuilder, type Principal } from '@portico/mcp-core';
import type { Response } from 'express';
import { JsonRpcCode, sendJsonRpcError } from '../common/json-rpc-error';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { requestContext } from '../common/request-context';
import { MetricsService } from '../metrics/metrics.service';
import { EVENT_STORE, type EventStore } from '../session/event-store.interface';
import { SESSION_STORE, type SessionRecord, type SessionStore } from '../session/session-store.interface';
import { RoamingSessionsService } from './roaming/roaming-sessions.service';
import { SessionRelay } from './roaming/session-relay.service';

/** How a legacy-era session talks: Streamable HTTP on `/mcp`, or the 2024-11-05 pair `GET /sse` + `POST /messages`. */
export type SessionTransportKind = 'streamable-http' | 'sse';

/** A legacy-era session served by this instance. */
export interface LiveSession<T extends { close(): Promise<void> } = { close(): Promise<void> }> {
  kind: SessionTransportKind;
  transport: T;
  server: McpServer;
  /** Set by the registry when the session opens (for the audit log). */
  principalId?: string;
}

/** Why a session ended, as the audit log records it. */
export type SessionEnd = 'closed' | 'deleted' | 'expired' | 'evicted' | 'shutdown';

/**
 * How often sessions the store has expired are closed here: every 30 s, or
 * every idle TTL when that is shorter, so that a dead session's transport
 * and server never outlive its TTL by more than one TTL.
 */
export function sweepIntervalMs(idleTtlMs: number): number {
  return Math.max(1_000, Math.min(30_000, idleTtlMs));
}

/** What an `initialize` request says about the client, for the session record. */
export function describeClient(initialize: unknown): Pick<SessionRecord, 'protocolVersion' | 'clientName'> {
  const params = (initialize as { params?: { protocolVersion?: string; clientInfo?: { name?: string } } } | undefined)?.params;
  return { protocolVersion: negotiatedVersion(params?.protocolVersion), clientName: params?.clientInfo?.name };
}

/** What the SDK answers `initialize` with: the requested revision when supported, else the latest. */
function negotiatedVersion(requested: string | undefined): string {
  return requested && SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

/**
 * The legacy-era sessions this instance serves, whichever transport carries
 * them, kept in step with the {@link SessionStore}: the store holds the
 * record (owner, idle and absolute TTL, per-principal cap across both
 * transports), this registry the live transport and server. A session the
 * store no longer holds is ended here, closing its streams.
 */
@Injectable()
export class LiveSessionRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('LegacySessions');
  private readonly live = new Map<string, LiveSession>();
  private sweeper?: NodeJS.Timeout;
  private stopListening?: () => void;

  constructor(
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly registry: McpRegistry,
    private readonly builder: McpServerBuilder,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'sessions'>,
    @Optional() private readonly relay?: SessionRelay,
    @Optional() private readonly roaming?: RoamingSessionsService,
  ) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep(), sweepIntervalMs(this.config.sessions.idleTtlMs)).unref();
    // Tools, resources or prompts added or removed at runtime: bring every
    // session's server up to date; the SDK sends each session its list_changed.
    const stopChanges = this.registry.onChange(() => this.syncAll());
    const stopUpdates = this.registry.onResourceUpdated((uri) => {
      for (const [id, { server }] of this.live) {
        this.builder.notifyResourceUpdated(server, uri).catch((e) => this.logger.warn({ err: e, sessionId: id }, 'could not notify a resource update'));
      }
    });
    this.stopListening = () => {
      stopChanges();
      stopUpdates();
    };
  }

  onApplicationShutdown(): Promise<void> {
    return this.closeAll();
  }

  /** Number of sessions served by this instance. */
  get size(): number {
    return this.live.size;
  }

  /**
   * Serves a new session here and records it in the store. When the
   * principal is over its cap, its oldest sessions are ended, whichever
   * transport they use.
   */
  async open(record: SessionRecord, session: LiveSession): Promise<void> {
    session.principalId = record.principalId;
    this.live.set(record.id, session);
    const ctx = requestContext.getStore();
    if (ctx) ctx.sessionId = record.id;
    let evicted: string[];
    try {
      evicted = await this.store.create(record);
    } catch (e) {
      this.live.delete(record.id);
      throw e;
    }
    this.metrics.sessionOpened('legacy', session.kind);
    this.logger.log({ sessionId: record.id, transport: session.kind, client: record.clientName }, 'session opened');
    this.audit.record({
      kind: 'session_opened',
      outcome: 'ok',
      principalId: record.principalId,
      sessionId: record.id,
      clientName: record.clientName,
      protocolVersion: record.protocolVersion,
      era: 'legacy',
      detail: { transport: session.kind },
    });
    for (const old of evicted) {
      this.logger.log({ sessionId: old, principalId: record.principalId }, 'session evicted: per-principal cap reached');
      // A roaming session (REDIS_URL) is served nowhere in particular: it ends fleet-wide.
      if (!this.live.has(old) && this.roaming) void this.roaming.end({ id: old, principalId: record.principalId }, 'evicted');
      else void this.end(old, 'evicted');
    }
  }

  /**
   * The session if it is alive, belongs to this principal, uses this
   * transport and is served here (sliding its idle TTL), then serves it as
   * the principal of this request (scopes of the credential just presented);
   * otherwise answers 404
   * (the spec's "start a new session"). Another principal's session is
   * indistinguishable from an unknown one.
   */
  async resolve<T extends { close(): Promise<void> }>(
    kind: SessionTransportKind,
    id: string,
    principal: Principal,
    res: Response,
  ): Promise<LiveSession<T> | undefined> {
    const record = await this.store.touch(id);
    const session = this.live.get(id);
    if (!record || record.principalId !== principal.id || session?.kind !== kind) {
      if (record && record.principalId !== principal.id) {
        this.logger.warn({ sessionId: id, principalId: principal.id }, 'session presented by another principal');
      }
      sendJsonRpcError(res, 404, JsonRpcCode.SessionNotFound, 'Session not found');
      return undefined;
    }
    const ctx = requestContext.getStore();
    if (ctx) ctx.sessionId = id;
    // The owner may present a newer credential (a refreshed token, other scopes): the session follows it.
    this.builder.usePrincipal(session.server, principal);
    return session as LiveSession<T>;
  }

  /** Records what the client said about itself in `initialize`. */
  async describe(id: string, initialize: unknown): Promise<void> {
    await this.store.update(id, describeClient(initialize));
  }

  /** Closes a session served here (expiry, eviction, shutdown). */
  async end(id: string, why: SessionEnd): Promise<void> {
    const session = this.live.get(id);
    if (!session) return;
    // Forgotten first, so the reason recorded is this one, not the `closed` of the transport's onclose.
    await this.forget(id, why);
    await session.transport.close().catch(() => undefined);
  }

  /** Drops a session whose transport has closed, with its record and events. Safe to call twice. */
  async forget(id: string, why: SessionEnd = 'closed'): Promise<void> {
    const session = this.live.get(id);
    if (!session) return;
    this.live.delete(id);
    this.metrics.sessionEnded('legacy', session.kind, why);
    this.audit.record({
      kind: why === 'expired' ? 'session_expired' : 'session_closed',
      outcome: why,
      principalId: session.principalId,
      sessionId: id,
      era: 'legacy',
      detail: { transport: session.kind },
    });
    await session.server.close().catch(() => undefined);
    await Promise.all([this.store.delete(id), this.events.deleteSession(id)]).catch((e) =>
      this.logger.warn({ err: e, sessionId: id }, 'could not remove session state'),
    );
  }

  /**
   * Sessions served here, with their records (status API); a session the
   * store lost is left out. Roaming sessions (REDIS_URL) count here while
   * this instance holds their GET stream.
   */
  async list(): Promise<(SessionRecord & { transport: SessionTransportKind })[]> {
    const served: [string, SessionTransportKind][] = [
      ...[...this.live].map(([id, session]) => [id, session.kind] as [string, SessionTransportKind]),
      ...(this.relay?.heldSessionIds() ?? []).map((id) => [id, 'streamable-http'] as [string, SessionTransportKind]),
    ];
    const rows = await Promise.all(
      served.map(async ([id, transport]) => {
        const record = await this.store.get(id).catch(() => undefined);
        if (!record) return undefined;
        const { initialize: _init, scopes: _scopes, ...shown } = record;
        return { ...shown, transport };
      }),
    );
    return rows.filter((r) => r !== undefined);
  }

  /** Sessions served here, by transport. */
  countByTransport(): Record<SessionTransportKind, number> {
    const counts: Record<SessionTransportKind, number> = { 'streamable-http': this.relay?.heldStreams ?? 0, sse: 0 };
    for (const { kind } of this.live.values()) counts[kind]++;
    return counts;
  }

  /** The protocol version a session negotiated, from its record. */
  async protocolVersionOf(id: string): Promise<string | undefined> {
    return (await this.store.get(id))?.protocolVersion;
  }

  /** Ends every session served here, closing their streams (shutdown). */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    this.stopListening?.();
    // Roaming sessions live on: only their streams held here close (clients reconnect to another instance).
    await Promise.all([...[...this.live.keys()].map((id) => this.end(id, 'shutdown')), this.relay?.closeAll()]);
  }

  private syncAll(): void {
    for (const [id, { server }] of this.live) {
      try {
        this.builder.sync(server);
      } catch (e) {
        this.logger.error({ err: e, sessionId: id }, 'could not apply a registry change to a session');
      }
    }
  }

  /** Ends sessions the store no longer holds (idle or absolute TTL, evicted by another instance). */
  async sweep(): Promise<void> {
    for (const id of [...this.live.keys()]) {
      if (!(await this.store.get(id).catch(() => true))) {
        this.logger.log({ sessionId: id }, 'session expired');
        await this.end(id, 'expired');
      }
    }
  }
}
