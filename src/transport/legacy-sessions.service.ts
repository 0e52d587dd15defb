import { toNodeHandler } from '@modelcontextprotocol/node';
import { isInitializeRequest, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { McpServerBuilder, type Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { JsonRpcCode, sendJsonRpcError } from '../common/json-rpc-error';
import { currentRequestId } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EVENT_STORE, type EventStore, sessionEventStore } from '../session/event-store.interface';
import { newSessionId } from '../session/session-id';
import { describeClient, type LiveSession, LiveSessionRegistry } from './live-session.registry';
import { needsFallback, serveWebHandler, type WebHandlerOptions } from './node-fetch.adapter';
import { RoamingSessionsService } from './roaming/roaming-sessions.service';

/** Sessions whose negotiated version is remembered for the client-quirk check (it never changes). */
const VERSION_CACHE_SIZE = 10_000;

/**
 * The legacy era (2025-11-25 and older) on `/mcp`: `initialize` opens a
 * session served by the SDK's stateful transport; its record lives in the
 * {@link LiveSessionRegistry} (TTL, per-principal cap, owner) and its events
 * in the {@link EventStore} for `Last-Event-ID` resumption. With REDIS_URL
 * every request goes to the {@link RoamingSessionsService} instead: any
 * instance serves any session.
 */
@Injectable()
export class LegacySessionsService {
  private readonly logger = new Logger('LegacySessions');
  private readonly versions = new Map<string, string>();

  constructor(
    private readonly builder: McpServerBuilder,
    private readonly sessions: LiveSessionRegistry,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly roaming?: RoamingSessionsService,
  ) {}

  async post(req: Request, res: Response, principal: Principal): Promise<void> {
    const sessionId = this.sessionIdOf(req);
    if (this.roaming) return this.roaming.post(req, res, principal, sessionId);
    if (sessionId === undefined) {
      if (!isInitializeRequest(req.body)) {
        return sendJsonRpcError(res, 400, JsonRpcCode.ServerError, 'Bad Request: Mcp-Session-Id header is required');
      }
      return this.open(req, res, principal);
    }
    const session = await this.resolve(sessionId, principal, res);
    if (session) await this.serve(session.transport, req, res, req.body);
  }

  /** GET (standalone SSE stream, or resumption with Last-Event-ID) and DELETE. */
  async other(req: Request, res: Response, principal: Principal): Promise<void> {
    const sessionId = this.sessionIdOf(req);
    if (sessionId === undefined) {
      return sendJsonRpcError(res, 400, JsonRpcCode.ServerError, 'Bad Request: Mcp-Session-Id header is required');
    }
    if (this.roaming) return req.method === 'GET' ? this.roaming.get(req, res, principal, sessionId) : this.roaming.delete(req, res, principal, sessionId);
    const session = await this.resolve(sessionId, principal, res);
    if (session) await this.serve(session.transport, req, res, undefined);
  }

  /** The protocol version a session negotiated (read for client-quirk tolerance); remembered, since it never changes. */
  async protocolVersionOf(id: string): Promise<string | undefined> {
    const known = this.versions.get(id);
    if (known) return known;
    const version = await this.sessions.protocolVersionOf(id).catch(() => undefined);
    if (version) {
      if (this.versions.size >= VERSION_CACHE_SIZE) this.versions.delete(this.versions.keys().next().value!);
      this.versions.set(id, version);
    }
    return version;
  }

  private sessionIdOf(req: Request): string | undefined {
    const value = req.headers['mcp-session-id'];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  private resolve(id: string, principal: Principal, res: Response): Promise<LiveSession<WebStandardStreamableHTTPServerTransport> | undefined> {
    return this.sessions.resolve<WebStandardStreamableHTTPServerTransport>('streamable-http', id, principal, res);
  }

  /**
   * One exchange of a session, through our adapter (see {@link serveWebHandler}):
   * the SDK's `NodeStreamableHTTPServerTransport` built a hono listener per
   * request and serialized the parsed body again into a stream. A POST whose
   * body was not parsed (not JSON) still goes through the SDK's own adapter.
   */
  private serve(transport: WebStandardStreamableHTTPServerTransport, req: Request, res: Response, parsedBody: unknown): Promise<void> {
    if (needsFallback(req, parsedBody)) {
      const handler = { fetch: (request: globalThis.Request, options?: WebHandlerOptions) => transport.handleRequest(request, options) };
      return toNodeHandler(handler, { maxRequestBodySize: this.config.http.maxBodyBytes })(req, res, parsedBody);
    }
    return serveWebHandler(transport, req, res, parsedBody, { requestView: true });
  }

  private async open(req: Request, res: Response, principal: Principal): Promise<void> {
    const id = newSessionId();
    const server = this.builder.build({ principal, era: 'legacy', sessionId: id, requestId: currentRequestId });
    // Read here, not in the callbacks below: they live as long as the session, and a
    // closure that named `req` would keep the initialize request, its response and
    // their loggers alive with it (about a third of an idle session's heap).
    const client = describeClient(req.body);
    let deleted = false;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: sessionEventStore(this.events, id),
      maxRequestBodySize: this.config.http.maxBodyBytes,
      retryInterval: 1000,
      onsessioninitialized: async () => {
        const now = Date.now();
        await this.sessions.open(
          { id, principalId: principal.id, createdAt: now, lastSeenAt: now, ...client },
          { kind: 'streamable-http', transport, server },
        );
      },
      onsessionclosed: () => {
        deleted = true;
        this.logger.log({ sessionId: id }, 'session deleted by client');
      },
    });
    transport.onclose = () => void this.sessions.forget(id, deleted ? 'deleted' : 'closed');
    await server.connect(transport);
    await this.serve(transport, req, res, req.body);
  }
}
