import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, LATEST_PROTOCOL_VERSION, type McpServer, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { McpRegistry, McpServerBuilder, type Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import { JsonRpcCode, sendJsonRpcError } from '../common/json-rpc-error';
import { currentRequestId, requestContext } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EVENT_STORE, type EventStore, sessionEventStore } from '../session/event-store.interface';
import { SESSION_STORE, type SessionStore } from '../session/session-store.interface';

interface LiveSession {
  transport: NodeStreamableHTTPServerTransport;
  server: McpServer;
}

const SWEEP_INTERVAL_MS = 30_000;

/**
 * The legacy era (2025-11-25 and older) on `/mcp`: `initialize` opens a
 * session served by the SDK's stateful transport; its record lives in the
 * {@link SessionStore} (TTL, per-principal cap, owner) and its events in the
 * {@link EventStore} for `Last-Event-ID` resumption.
 */
@Injectable()
export class LegacySessionsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('LegacySessions');
  private readonly live = new Map<string, LiveSession>();
  private sweeper?: NodeJS.Timeout;
  private stopListening?: () => void;

  constructor(
    private readonly builder: McpServerBuilder,
    private readonly registry: McpRegistry,
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
    // Tools, resources or prompts added or removed at runtime: bring every
    // session's server up to date; the SDK sends each session its list_changed.
    this.stopListening = this.registry.onChange(() => this.syncAll());
  }

  /** Ends every session served here, closing their streams (shutdown). */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    this.stopListening?.();
    await Promise.all([...this.live.keys()].map((id) => this.end(id)));
  }

  onApplicationShutdown(): Promise<void> {
    return this.closeAll();
  }

  /** Number of sessions served by this instance. */
  get size(): number {
    return this.live.size;
  }

  async post(req: Request, res: Response, principal: Principal): Promise<void> {
    const sessionId = this.sessionIdOf(req);
    if (sessionId === undefined) {
      if (!isInitializeRequest(req.body)) {
        return sendJsonRpcError(res, 400, JsonRpcCode.ServerError, 'Bad Request: Mcp-Session-Id header is required');
      }
      return this.open(req, res, principal);
    }
    const session = await this.resolve(sessionId, principal, res);
    if (session) await session.transport.handleRequest(req, res, req.body);
  }

  /** GET (standalone SSE stream, or resumption with Last-Event-ID) and DELETE. */
  async other(req: Request, res: Response, principal: Principal): Promise<void> {
    const sessionId = this.sessionIdOf(req);
    if (sessionId === undefined) {
      return sendJsonRpcError(res, 400, JsonRpcCode.ServerError, 'Bad Request: Mcp-Session-Id header is required');
    }
    const session = await this.resolve(sessionId, principal, res);
    if (session) await session.transport.handleRequest(req, res);
  }

  /** The protocol version a live session negotiated (read for client-quirk tolerance). */
  async protocolVersionOf(id: string): Promise<string | undefined> {
    return (await this.store.get(id))?.protocolVersion;
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

  private sessionIdOf(req: Request): string | undefined {
    const value = req.headers['mcp-session-id'];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  /**
   * The session if it is alive, belongs to this principal, and is served
   * here; otherwise answers 404 (the spec's "start a new session"). Another
   * principal's session is indistinguishable from an unknown one.
   */
  private async resolve(id: string, principal: Principal, res: Response): Promise<LiveSession | undefined> {
    const record = await this.store.touch(id);
    const session = this.live.get(id);
    if (!record || record.principalId !== principal.id || !session) {
      if (record && record.principalId !== principal.id) {
        this.logger.warn({ sessionId: id, principalId: principal.id }, 'session presented by another principal');
      }
      sendJsonRpcError(res, 404, JsonRpcCode.SessionNotFound, 'Session not found');
      return undefined;
    }
    const ctx = requestContext.getStore();
    if (ctx) ctx.sessionId = id;
    return session;
  }

  private async open(req: Request, res: Response, principal: Principal): Promise<void> {
    const id = randomBytes(24).toString('base64url');
    const server = this.builder.build({ principal, era: 'legacy', sessionId: id, requestId: currentRequestId });
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: sessionEventStore(this.events, id),
      maxRequestBodySize: this.config.http.maxBodyBytes,
      retryInterval: 1000,
      onsessioninitialized: async () => {
        this.live.set(id, { transport, server });
        const ctx = requestContext.getStore();
        if (ctx) ctx.sessionId = id;
        const now = Date.now();
        const params = (req.body as { params?: { protocolVersion?: string; clientInfo?: { name?: string } } }).params;
        const evicted = await this.store.create({
          id,
          principalId: principal.id,
          createdAt: now,
          lastSeenAt: now,
          protocolVersion: negotiatedVersion(params?.protocolVersion),
          clientName: params?.clientInfo?.name,
        });
        this.logger.log({ sessionId: id, client: params?.clientInfo?.name }, 'session opened');
        for (const old of evicted) {
          this.logger.log({ sessionId: old, principalId: principal.id }, 'session evicted: per-principal cap reached');
          void this.end(old);
        }
      },
      onsessionclosed: () => this.logger.log({ sessionId: id }, 'session deleted by client'),
    });
    transport.onclose = () => void this.forget(id);
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  /** Closes a session served here (expiry, eviction, shutdown). */
  private async end(id: string): Promise<void> {
    const session = this.live.get(id);
    if (!session) return;
    await session.transport.close().catch(() => undefined);
    await this.forget(id);
  }

  private async forget(id: string): Promise<void> {
    const session = this.live.get(id);
    if (!session) return;
    this.live.delete(id);
    await session.server.close().catch(() => undefined);
    await Promise.all([this.store.delete(id), this.events.deleteSession(id)]).catch((e) =>
      this.logger.warn({ err: e, sessionId: id }, 'could not remove session state'),
    );
  }

  /** Ends sessions the store no longer holds (idle or absolute TTL). */
  private async sweep(): Promise<void> {
    for (const id of [...this.live.keys()]) {
      if (!(await this.store.get(id).catch(() => true))) {
        this.logger.log({ sessionId: id }, 'session expired');
        await this.end(id);
      }
    }
  }
}

/** What the SDK answers `initialize` with: the requested revision when supported, else the latest. */
function negotiatedVersion(requested: string | undefined): string {
  return requested && SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
}
