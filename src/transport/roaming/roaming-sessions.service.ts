import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type EventStore as SdkEventStore,
  WebStandardStreamableHTTPServerTransport,
  type WebStandardStreamableHTTPServerTransportOptions,
} from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { hasScopes, McpRegistry, McpServerBuilder, type Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { AuditService } from '../../audit/audit.service';
import { JsonRpcCode, sendJsonRpcError } from '../../common/json-rpc-error';
import { currentRequestId, requestContext } from '../../common/request-context';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { MetricsService } from '../../metrics/metrics.service';
import { EVENT_STORE, sessionEventStore } from '../../session/event-store.interface';
import { newSessionId } from '../../session/session-id';
import { GET_STREAM, type RedisEventStore } from '../../session/redis-event.store';
import type { RedisSessionStore } from '../../session/redis-session.store';
import { SESSION_STORE, type SessionRecord } from '../../session/session-store.interface';
import { describeClient } from '../live-session.registry';
import { RoamingServerPool } from './roaming-server.pool';
import { needsFallback, serveWebHandler, type WebHandlerOptions } from '../node-fetch.adapter';
import { SessionRelay } from './session-relay.service';

/** What a legacy client is told when Redis is away: the session cannot be opened or found, and what still works. */
export const SESSIONS_UNAVAILABLE =
  'Legacy sessions are unavailable: the session store (Redis) cannot be reached. Retry shortly, or use protocol revision 2026-07-28, which needs no session.';

/** How often a resumed response stream looks for the rest of its call's events. */
const FOLLOW_POLL_MS = 100;

const LOG_LEVELS = new Set(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);

/**
 * Legacy-era (2025-xx) sessions on `/mcp` when REDIS_URL is set: any
 * instance serves any request of any session, behind a plain round-robin
 * load balancer. Nothing of a session lives in an instance between requests:
 *
 * - `initialize` stores the session's record (owner, handshake, scopes) in
 *   Redis before the SDK answers, then the instance forgets it;
 * - every later POST loads the record (one round trip that also slides the
 *   idle TTL and checks the owner), builds a server, replays the handshake
 *   into it ({@link replayHandshake}: the one workaround, isolated; the
 *   {@link RoamingServerPool} keeps that server for the session's next
 *   request here), and
 *   serves the request on a per-request SDK transport whose events go to the
 *   session's Redis event stream (so `Last-Event-ID` resumes anywhere). If
 *   the client drops the response stream, the call still finishes and its
 *   result is stored;
 * - a GET is held here by the {@link SessionRelay}; answers to
 *   server-to-client requests and cancellations are routed to the instance
 *   that waits for them;
 * - DELETE ends the session fleet-wide.
 */
@Injectable()
export class RoamingSessionsService {
  private readonly logger = new Logger('LegacySessions');
  private readonly transportOptions: WebStandardStreamableHTTPServerTransportOptions;
  /** Longest a call goes on after its client dropped the response stream (its result is stored for resumption). */
  private readonly keepRunningMs: number;
  private readonly servers: RoamingServerPool;

  constructor(
    private readonly builder: McpServerBuilder,
    private readonly registry: McpRegistry,
    @Inject(SESSION_STORE) private readonly store: RedisSessionStore,
    @Inject(EVENT_STORE) private readonly events: RedisEventStore,
    private readonly relay: SessionRelay,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.transportOptions = { retryInterval: 1000, maxRequestBodySize: config.http.maxBodyBytes };
    this.keepRunningMs = config.tools.timeoutMs + 10_000;
    this.servers = new RoamingServerPool(builder, registry, currentRequestId);
  }

  async post(req: Request, res: Response, principal: Principal, sessionId: string | undefined): Promise<void> {
    const body = req.body as JSONRPCMessage;
    if (sessionId === undefined) {
      if (!isInitializeRequest(body)) return sendJsonRpcError(res, 400, JsonRpcCode.ServerError, 'Bad Request: Mcp-Session-Id header is required');
      return this.open(req, res, principal);
    }
    const record = await this.load(sessionId, principal, res);
    if (!record) return;
    if (isJSONRPCResultResponse(body) || isJSONRPCErrorResponse(body)) {
      await this.relay.routeResponse(sessionId, body);
      res.status(202).end();
      return;
    }
    if (isJSONRPCNotification(body) && body.method === 'notifications/cancelled') {
      await this.relay.routeCancel(sessionId, body);
      res.status(202).end();
      return;
    }
    try {
      await this.remember(record, body, principal);
    } catch (e) {
      return this.unavailable(res, e);
    }
    const { server, release } = await this.servers.acquire(record, principal);
    const transport = new WebStandardStreamableHTTPServerTransport({
      ...this.transportOptions,
      sessionIdGenerator: undefined,
      eventStore: sessionEventStore(this.events, sessionId),
    });
    const { answered, untrack } = this.relay.track(sessionId, transport, isJSONRPCRequest(body) ? [body.id] : []);
    await server.connect(transport);
    let giveUp: NodeJS.Timeout | undefined;
    try {
      await this.serve(transport, req, res);
      // The client may have dropped the stream: the call goes on, and its result is stored for Last-Event-ID.
      // (The timer is cleared once answered: else every request leaves one behind for keepRunningMs.)
      await Promise.race([answered, new Promise((r) => (giveUp = setTimeout(r, this.keepRunningMs).unref()))]);
    } finally {
      clearTimeout(giveUp);
      untrack();
      await server.close().catch(() => undefined);
      release();
    }
  }

  /** GET: the session's standalone stream, held here (or a replay of a response stream, with Last-Event-ID). */
  async get(req: Request, res: Response, principal: Principal, sessionId: string): Promise<void> {
    const record = await this.load(sessionId, principal, res);
    if (!record) return;
    const lastEventId = req.headers['last-event-id'];
    const resumes = typeof lastEventId === 'string' ? lastEventId : undefined;
    const standalone = (resumes === undefined || this.events.streamIdOf(resumes) === GET_STREAM) && String(req.headers.accept).includes('text/event-stream');
    if (!standalone) {
      // Resuming a POST response stream (or a GET the SDK will refuse): a replay, nothing held.
      const transport = new WebStandardStreamableHTTPServerTransport({ ...this.transportOptions, eventStore: this.followingEventStore(sessionId, res) });
      return this.serve(transport, req, res).finally(() => transport.close());
    }
    let held;
    try {
      held = await this.relay.hold(sessionId, resumes);
    } catch (e) {
      return this.unavailable(res, e);
    }
    try {
      await this.serve(held.transport, req, res, (status) => status === 200 && held.start());
    } finally {
      await this.relay.release(held);
    }
  }

  /** DELETE: ends the session on every instance. */
  async delete(req: Request, res: Response, principal: Principal, sessionId: string): Promise<void> {
    const record = await this.load(sessionId, principal, res);
    if (!record) return;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      onsessionclosed: async () => {
        this.logger.log({ sessionId }, 'session deleted by client');
        await this.end(record, 'deleted');
      },
    });
    await this.serve(transport, req, res);
  }

  /** Ends a session fleet-wide: record, events, its GET stream wherever held; audited. */
  async end(record: Pick<SessionRecord, 'id' | 'principalId'>, why: 'deleted' | 'evicted'): Promise<void> {
    await this.store.delete(record.id).catch((e: unknown) => this.logger.warn({ err: e, sessionId: record.id }, 'could not remove session state'));
    this.servers.forget(record.id);
    await this.relay.ended(record.id);
    this.metrics.roamingSessionEnded(why);
    this.audit.record({
      kind: 'session_closed',
      outcome: why,
      principalId: record.principalId,
      sessionId: record.id,
      era: 'legacy',
      detail: { transport: 'streamable-http' },
    });
  }

  private async open(req: Request, res: Response, principal: Principal): Promise<void> {
    const id = newSessionId();
    const now = Date.now();
    const params = (req.body as { params?: Record<string, unknown> }).params ?? {};
    const record: SessionRecord = {
      id,
      principalId: principal.id,
      createdAt: now,
      lastSeenAt: now,
      ...describeClient(req.body),
      initialize: params,
      scopes: principal.scopes,
    };
    let evicted: string[];
    try {
      // Stored before the SDK answers: the client's next request may reach any instance.
      evicted = await this.store.create(record);
    } catch (e) {
      return this.unavailable(res, e);
    }
    const ctx = requestContext.getStore();
    if (ctx) ctx.sessionId = id;
    this.metrics.roamingSessionOpened();
    this.logger.log({ sessionId: id, transport: 'streamable-http', client: record.clientName }, 'session opened');
    this.audit.record({
      kind: 'session_opened',
      outcome: 'ok',
      principalId: principal.id,
      sessionId: id,
      clientName: record.clientName,
      protocolVersion: record.protocolVersion,
      era: 'legacy',
      detail: { transport: 'streamable-http' },
    });
    for (const old of evicted) {
      this.logger.log({ sessionId: old, principalId: principal.id }, 'session evicted: per-principal cap reached');
      void this.end({ id: old, principalId: principal.id }, 'evicted');
    }
    const server = this.builder.build({ principal, era: 'legacy', sessionId: id, requestId: currentRequestId });
    const transport = new WebStandardStreamableHTTPServerTransport({
      ...this.transportOptions,
      sessionIdGenerator: () => id,
      eventStore: sessionEventStore(this.events, id),
    });
    await server.connect(transport);
    try {
      await this.serve(transport, req, res);
    } finally {
      await server.close().catch(() => undefined);
    }
    // The SDK refused the handshake (a bad Accept header, an invalid body): nothing to keep.
    if (res.statusCode !== 200) await this.store.delete(id).catch(() => undefined);
    else this.servers.keep(record, server);
  }

  /**
   * The session if it is alive and the principal's (sliding its idle TTL);
   * otherwise answers 404 (or 503 when Redis cannot be reached).
   */
  private async load(sessionId: string, principal: Principal, res: Response): Promise<SessionRecord | undefined> {
    let record: SessionRecord | undefined;
    try {
      record = await this.store.touch(sessionId);
    } catch (e) {
      this.unavailable(res, e);
      return undefined;
    }
    if (!record || record.principalId !== principal.id || !record.initialize) {
      if (record && record.principalId !== principal.id) {
        this.logger.warn({ sessionId, principalId: principal.id }, 'session presented by another principal');
      }
      sendJsonRpcError(res, 404, JsonRpcCode.SessionNotFound, 'Session not found');
      return undefined;
    }
    const ctx = requestContext.getStore();
    if (ctx) ctx.sessionId = sessionId;
    return record;
  }

  /**
   * What a request changes in the session beyond itself, kept in the record
   * because the next request may reach another instance: the log level,
   * resource subscriptions, and the scopes of the credential (when they
   * change, the session hears `list_changed` for what it now sees differently).
   */
  private async remember(record: SessionRecord, body: JSONRPCMessage, principal: Principal): Promise<void> {
    const request = isJSONRPCRequest(body) ? (body as { method: string; params?: Record<string, unknown> }) : undefined;
    if (request?.method === 'logging/setLevel' && LOG_LEVELS.has(String(request.params?.level))) {
      await this.store.update(record.id, { logLevel: String(request.params!.level) });
    } else if (request?.method === 'resources/subscribe' && typeof request.params?.uri === 'string') {
      await this.store.subscribe(record.id, request.params.uri);
    } else if (request?.method === 'resources/unsubscribe' && typeof request.params?.uri === 'string') {
      await this.store.unsubscribe(record.id, request.params.uri);
    }
    const before = record.scopes ?? [];
    if (before.length === principal.scopes.length && before.every((s) => principal.scopes.includes(s))) return;
    await this.store.update(record.id, { scopes: principal.scopes });
    const was = { ...principal, scopes: before };
    for (const [kind, entries] of [
      ['tools', this.registry.tools()],
      ['resources', [...this.registry.resources(), ...this.registry.resourceTemplates()]],
      ['prompts', this.registry.prompts()],
    ] as const) {
      const differs = (entries as { definition: { scopes?: string[] } }[]).some(
        (e) => hasScopes(was, e.definition.scopes ?? []) !== hasScopes(principal, e.definition.scopes ?? []),
      );
      if (differs) await this.relay.notify(record.id, { jsonrpc: '2.0', method: `notifications/${kind}/list_changed` });
    }
  }

  /**
   * The session's events for resuming a response stream: the call may still
   * run on another instance (or here, on another transport), so the replay
   * waits for its answer, reading what that instance stores, until it is
   * there, the client leaves, or the call could no longer be running. (The
   * SDK answers a resumption only once the replay returns.)
   */
  private followingEventStore(sessionId: string, res: Response): SdkEventStore {
    const plain = sessionEventStore(this.events, sessionId);
    let gone = false;
    res.once('close', () => (gone = true));
    return {
      storeEvent: (streamId, message) => plain.storeEvent(streamId, message),
      getStreamIdForEventId: (eventId) => plain.getStreamIdForEventId!(eventId),
      replayEventsAfter: async (lastEventId, { send }) => {
        const deadline = Date.now() + this.keepRunningMs;
        let from = lastEventId;
        for (;;) {
          let answered = false;
          const streamId = await this.events.replayEventsAfter(sessionId, from, async (eventId, message) => {
            await send(eventId, message);
            from = eventId;
            answered ||= isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
          });
          if (answered || gone || Date.now() > deadline) return streamId;
          await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        }
      },
    };
  }

  /**
   * Runs one HTTP exchange through an SDK transport (our adapter, see
   * {@link serveWebHandler}: an SSE stream's headers go out within a timer's
   * turn even without an event, since clients wait for them); `answered` sees
   * the status before the body streams. A POST whose body was not parsed (not
   * JSON) goes through the SDK's own adapter.
   */
  private serve(
    transport: WebStandardStreamableHTTPServerTransport,
    req: Request,
    res: Response,
    answered?: (status: number) => void,
  ): Promise<void> {
    if (!needsFallback(req, req.body)) return serveWebHandler(transport, req, res, req.body, { answered, requestView: true });
    const fetch = async (request: globalThis.Request, options?: WebHandlerOptions) => {
      const response = await transport.handleRequest(request, options);
      answered?.(response.status);
      return response;
    };
    return toNodeHandler({ fetch }, { maxRequestBodySize: this.config.http.maxBodyBytes })(req, res, req.body);
  }

  private unavailable(res: Response, e: unknown): void {
    this.logger.warn({ err: e }, 'legacy session request refused: Redis unavailable');
    sendJsonRpcError(res, 503, JsonRpcCode.ServerError, SESSIONS_UNAVAILABLE, { 'Retry-After': '5' });
  }
}
