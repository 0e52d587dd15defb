import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Per-request values that every log line and audit row of the request carries. */
export interface RequestContext {
  requestId: string;
  principalId?: string;
  sessionId?: string;
  /** The tool a `tools/call` request calls. */
  tool?: string;
  /** The caller's address (behind TRUST_PROXY hops, the forwarded one). */
  clientIp?: string;
  userAgent?: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * First middleware of both apps: takes a sane incoming `X-Request-Id` (from
 * nginx, say) or makes one, echoes it, and opens the async context.
 */
export function requestContextMiddleware(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
  (req as Request & { id: string }).id = requestId;
  res.setHeader('X-Request-Id', requestId);
  const userAgent = req.headers['user-agent']?.slice(0, 256);
  requestContext.run({ requestId, clientIp: req.ip, userAgent }, next);
}

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** Puts the tool a `tools/call` body names into the request's context, so its log lines carry it. */
export function rememberTool(body: unknown): void {
  const b = body as { method?: unknown; params?: { name?: unknown } } | undefined;
  const ctx = requestContext.getStore();
  if (ctx && b?.method === 'tools/call' && typeof b.params?.name === 'string') ctx.tool = b.params.name.slice(0, 64);
}
