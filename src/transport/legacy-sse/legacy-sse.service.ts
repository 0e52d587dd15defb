import { SSEServerTransport } from '@modelcontextprotocol/server-legacy/sse';
import { isInitializeRequest } from '@modelcontextprotocol/server';
import { Inject, Injectable } from '@nestjs/common';
import { McpServerBuilder, type Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { JsonRpcCode, rejectBatch, sendJsonRpcError } from '../../common/json-rpc-error';
import { currentRequestId, rememberTool } from '../../common/request-context';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { MetricsService } from '../../metrics/metrics.service';
import { newSessionId } from '../../session/session-id';
import { LiveSessionRegistry } from '../live-session.registry';
import { keepSseAlive } from './sse-keep-alive';

/**
 * The path clients post messages to, as the `endpoint` event announces it:
 * `/messages`, under the path of PUBLIC_BASE_URL when Portico sits behind a
 * proxy that serves it under a prefix. Clients resolve it against the URL
 * they opened `/sse` at, so it stays on the proxy's origin.
 */
export function messagesPath(config: AppConfig): string {
  const prefix = config.http.publicBaseUrl ? new URL(config.http.publicBaseUrl).pathname.replace(/\/+$/, '') : '';
  return `${prefix}/messages`;
}

/**
 * The deprecated 2024-11-05 HTTP+SSE transport: `GET /sse` opens a session
 * whose server messages flow down that stream, `POST /messages?sessionId=…`
 * carries the client's. The sessions live in the {@link LiveSessionRegistry}
 * beside those of `/mcp`: same owner check, TTLs and per-principal cap.
 */
@Injectable()
export class LegacySseService {
  private readonly endpoint: string;

  constructor(
    private readonly builder: McpServerBuilder,
    private readonly sessions: LiveSessionRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.endpoint = messagesPath(config);
  }

  /** Opens a session and holds its stream open; the first event names the URL to post to. */
  async open(res: Response, principal: Principal): Promise<void> {
    const transport = new SSEServerTransport(this.endpoint, res);
    // The frozen SDK names sessions with randomUUID (122 random bits); Portico's carry 192, like /mcp's.
    Object.assign(transport, { _sessionId: newSessionId() });
    const id = transport.sessionId;
    const server = this.builder.build({ principal, era: 'legacy', sessionId: id, requestId: currentRequestId });
    transport.onclose = () => void this.sessions.forget(id);
    const now = Date.now();
    await this.sessions.open({ id, principalId: principal.id, createdAt: now, lastSeenAt: now }, { kind: 'sse', transport, server });
    // nginx buffers responses unless told otherwise; the SDK's transport does not say it.
    res.setHeader('X-Accel-Buffering', 'no');
    await server.connect(transport);
    if (res.destroyed) return this.sessions.end(id, 'closed'); // the client left while the session was being set up
    keepSseAlive(res);
  }

  /** A client message for one of the principal's sessions; answered 202, the reply goes down the stream. */
  async post(req: Request, res: Response, principal: Principal): Promise<void> {
    const id = req.query.sessionId;
    if (typeof id !== 'string' || id === '') {
      return sendJsonRpcError(res, 400, JsonRpcCode.ServerError, 'Bad Request: the sessionId query parameter is required');
    }
    if (rejectBatch(req, res)) return;
    this.metrics.mcpRequest((req.body as { method?: unknown } | undefined)?.method, 'legacy');
    rememberTool(req.body);
    const session = await this.sessions.resolve<SSEServerTransport>('sse', id, principal, res);
    if (!session) return;
    if (isInitializeRequest(req.body)) await this.sessions.describe(id, req.body);
    await session.transport.handlePostMessage(req, res, req.body);
  }
}
