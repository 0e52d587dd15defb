import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest } from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { McpServerBuilder, type Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import { JsonRpcCode, sendJsonRpcError } from '../common/json-rpc-error';
import { currentRequestId } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EVENT_STORE, type EventStore, sessionEventStore } from '../session/event-store.interface';
import { describeClient, LiveSessionRegistry } from './live-session.registry';

/**
 * The legacy era (2025-11-25 and older) on `/mcp`: `initialize` opens a
 * session served by the SDK's stateful transport; its record lives in the
 * {@link LiveSessionRegistry} (TTL, per-principal cap, owner) and its events
 * in the {@link EventStore} for `Last-Event-ID` resumption.
 */
@Injectable()
export class LegacySessionsService {
  private readonly logger = new Logger('LegacySessions');

  constructor(
    private readonly builder: McpServerBuilder,
    private readonly sessions: LiveSessionRegistry,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
    return this.sessions.protocolVersionOf(id);
  }

  private sessionIdOf(req: Request): string | undefined {
    const value = req.headers['mcp-session-id'];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  private resolve(id: string, principal: Principal, res: Response) {
    return this.sessions.resolve<NodeStreamableHTTPServerTransport>('streamable-http', id, principal, res);
  }

  private async open(req: Request, res: Response, principal: Principal): Promise<void> {
    const id = randomBytes(24).toString('base64url');
    const server = this.builder.build({ principal, era: 'legacy', sessionId: id, requestId: currentRequestId });
    let deleted = false;
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: sessionEventStore(this.events, id),
      maxRequestBodySize: this.config.http.maxBodyBytes,
      retryInterval: 1000,
      onsessioninitialized: async () => {
        const now = Date.now();
        await this.sessions.open(
          { id, principalId: principal.id, createdAt: now, lastSeenAt: now, ...describeClient(req.body) },
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
    await transport.handleRequest(req, res, req.body);
  }
}
