import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import type { Response } from 'express';
import { JsonRpcCode } from '../common/json-rpc-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';

/** The long-lived streams counted: GET streams on `/mcp`, `/sse` sessions, modern `subscriptions/listen`. */
export type StreamKind = 'mcp_get' | 'sse' | 'listen';

/** How long a refused client is told to wait before it tries again. */
const RETRY_AFTER_SECONDS = '30';

/**
 * Caps the long-lived streams open on this instance, per principal
 * (STREAM_MAX_PER_PRINCIPAL, 429 past it) and in all (STREAM_MAX_PER_INSTANCE,
 * 503 past it), so one client or a crowd cannot pin every socket and every
 * server object. A stream counts from the request until its response closes.
 */
@Injectable()
export class StreamLimiter {
  private readonly logger = new Logger('StreamLimiter');
  private total = 0;
  private readonly byPrincipal = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /** Streams open now, on this instance and for one principal. */
  open(principalId?: string): number {
    return principalId === undefined ? this.total : (this.byPrincipal.get(principalId) ?? 0);
  }

  /**
   * Counts the stream `res` carries until it closes and returns true; past a
   * cap, answers with a JSON-RPC error (429 or 503, `Retry-After`) and returns false.
   */
  admit(kind: StreamKind, principal: Principal, res: Response, requestId: unknown = null): boolean {
    const { maxPerPrincipal, maxPerInstance } = this.config.streams;
    const held = this.byPrincipal.get(principal.id) ?? 0;
    const limit = this.total >= maxPerInstance ? 'instance' : held >= maxPerPrincipal ? 'principal' : undefined;
    if (limit) {
      this.metrics.streamRefused(kind, limit);
      this.logger.warn({ kind, limit, principalId: principal.id, open: limit === 'instance' ? this.total : held }, 'stream refused: too many open streams');
      const [status, message] =
        limit === 'instance'
          ? [503, `Too many open streams on this server (${maxPerInstance}): try again later`]
          : [429, `Too many open streams for this principal (${maxPerPrincipal}): close one, or try again later`];
      res.setHeader('Retry-After', RETRY_AFTER_SECONDS);
      const id = typeof requestId === 'string' || typeof requestId === 'number' ? requestId : null;
      res.status(status).json({ jsonrpc: '2.0', error: { code: JsonRpcCode.ServerError, message }, id });
      return false;
    }
    this.total++;
    this.byPrincipal.set(principal.id, held + 1);
    res.once('close', () => {
      this.total--;
      const left = (this.byPrincipal.get(principal.id) ?? 1) - 1;
      if (left > 0) this.byPrincipal.set(principal.id, left);
      else this.byPrincipal.delete(principal.id);
    });
    return true;
  }
}
