import { Injectable, Logger } from '@nestjs/common';
import { ToolInvoker } from '@portico/mcp-core';
import type { NextFunction, Request, Response } from 'express';
import { JsonRpcCode, sendJsonRpcError } from '../common/json-rpc-error';

/** What a drain left behind when its deadline came. */
export interface DrainResult {
  /** Requests still running (their streams are then closed). */
  requests: number;
  /** Tool calls still running (then aborted: audited as `cancelled`). */
  calls: number;
  waitedMs: number;
}

/**
 * Whether the MCP app serves or drains. On shutdown, {@link beginDrain}
 * flips readiness to 503 at once and makes {@link middleware} refuse every
 * new request (503, `Connection: close`), while requests already running,
 * and the tool calls they carry, finish: {@link drained} waits for them up to
 * a deadline. Long-lived streams (GET streams, `subscriptions/listen`) are not
 * waited for; shutdown closes them.
 */
@Injectable()
export class LifecycleService {
  private readonly logger = new Logger('Lifecycle');
  private drainingSince?: number;
  private readonly running = new Set<Response>();

  constructor(private readonly invoker: ToolInvoker) {}

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Stop taking work: readiness turns 503, new requests are refused. Idempotent. */
  beginDrain(): void {
    if (this.drainingSince !== undefined) return;
    this.drainingSince = Date.now();
    this.logger.log({ requests: this.running.size, calls: this.invoker.inFlight }, 'draining: new requests are refused, in-flight calls finish');
  }

  /** Resolves once no request or tool call is running, or after `timeoutMs` with what is left. */
  async drained(timeoutMs: number): Promise<DrainResult> {
    const started = Date.now();
    while (this.running.size > 0 || this.invoker.inFlight > 0) {
      if (Date.now() - started >= timeoutMs) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { requests: this.running.size, calls: this.invoker.inFlight, waitedMs: Date.now() - started };
  }

  /**
   * Express middleware (after the body parser): tracks running requests and,
   * while draining, refuses new ones. JSON-RPC responses and notifications on
   * a legacy session still pass: a call in flight may be waiting for the
   * client's answer (elicitation, sampling) or its cancellation.
   */
  middleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      if (this.draining && startsWork(req)) {
        res.setHeader('Connection', 'close');
        return sendJsonRpcError(res, 503, JsonRpcCode.ServerError, 'Portico is shutting down: retry the request (on another instance)', { 'Retry-After': '1' });
      }
      if (!isStream(req)) {
        this.running.add(res);
        res.once('close', () => this.running.delete(res));
      }
      next();
    };
  }
}

function body(req: Request): { method?: unknown; id?: unknown } | undefined {
  const b = req.body as unknown;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as { method?: unknown; id?: unknown }) : undefined;
}

/** A GET stream or a modern `subscriptions/listen` stream: open until closed, never waited for. */
function isStream(req: Request): boolean {
  return req.method === 'GET' ? /^\/(mcp|sse)\/?$/.test(req.path) : body(req)?.method === 'subscriptions/listen';
}

/** Anything but a JSON-RPC response or notification on an existing legacy session (`Mcp-Session-Id` or `/messages?sessionId`). */
function startsWork(req: Request): boolean {
  if (req.method !== 'POST') return true;
  const b = body(req);
  const onSession = Boolean(req.headers['mcp-session-id']) || (req.path === '/messages' && Boolean(req.query.sessionId));
  const answersOrNotifies = b !== undefined && (b.method === undefined || b.id === undefined);
  return !(onSession && answersOrNotifies);
}
