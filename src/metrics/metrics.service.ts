import { Injectable, OnModuleInit } from '@nestjs/common';
import { type ToolCallEvent, type ToolCallListener, ToolInvoker } from '@portico/mcp-core';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { AuditService } from '../audit/audit.service';
import { BUILD_COMMIT, PACKAGE_VERSION } from '../common/paths';

/** MCP methods counted under their own name; anything else is `other` (labels stay bounded). */
const MCP_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'subscriptions/listen',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
]);

/** Tool outcomes that count as errors in the status API (a cancelled call or a rate-limited one is not the tool's fault). */
const ERROR_OUTCOMES = new Set(['tool_error', 'invalid_input', 'error', 'timeout']);

/** Routes of the MCP app always labelled by path, even when a middleware answered before routing (403, 413). */
const KNOWN_ROUTES = ['/mcp', '/sse', '/messages', '/', '/health'];

const LABEL = /^[A-Za-z0-9_./:-]{1,64}$/;
const label = (value: string | undefined, fallback = 'other') => (value && LABEL.test(value) ? value : fallback);

/** Per-tool figures since the process started, for `GET /status/tools`. */
export interface ToolStats {
  tool: string;
  calls: number;
  errors: number;
  rateLimited: number;
  outcomes: Record<string, number>;
  /** Milliseconds; null before the first completed call. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * Portico's Prometheus metrics (`prom-client`, one registry per app
 * instance), and the small API other modules report through:
 * {@link authFailure}, {@link rateLimited}, {@link mcpRequest},
 * {@link sessionOpened}/{@link sessionEnded}. Tool calls arrive as a
 * {@link ToolCallListener} like audit does; audit backlog and write latency
 * are read from the {@link AuditService}. Every method is cheap and never
 * throws: metrics must not break a request.
 */
@Injectable()
export class MetricsService implements ToolCallListener, OnModuleInit {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'portico_http_requests_total',
    help: 'HTTP requests on the MCP port, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly mcpRequests = new Counter({
    name: 'portico_mcp_requests_total',
    help: 'MCP JSON-RPC messages received, by method and protocol era (legacy: 2025-xx and HTTP+SSE; modern: 2026-07-28).',
    labelNames: ['method', 'era'] as const,
    registers: [this.registry],
  });
  private readonly toolCalls = new Counter({
    name: 'portico_tool_calls_total',
    help: 'Tool calls by tool and outcome (ok, input_required, tool_error, invalid_input, error, timeout, cancelled, rate_limited).',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly toolDuration = new Histogram({
    name: 'portico_tool_call_duration_seconds',
    help: 'Tool call latency (input validation to result), by tool.',
    labelNames: ['tool'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  /** Percentiles since start for the status API: kept out of /metrics (the histogram serves Prometheus). */
  private readonly toolPercentiles = new Summary({
    name: 'portico_tool_call_duration_ms',
    help: 'private',
    labelNames: ['tool'] as const,
    percentiles: [0.5, 0.99],
    registers: [],
  });
  private readonly activeSessions = new Gauge({
    name: 'portico_active_sessions',
    help: 'Sessions served by this instance, by era and transport (legacy: streamable-http or sse sessions; modern: open subscriptions/listen streams).',
    labelNames: ['era', 'transport'] as const,
    registers: [this.registry],
  });
  private readonly sessionsOpened = new Counter({
    name: 'portico_sessions_opened_total',
    help: 'Legacy-era sessions opened, by transport.',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  private readonly sessionEvictions = new Counter({
    name: 'portico_session_evictions_total',
    help: 'Sessions ended by the server, by reason (evicted: the per-principal cap; expired: idle or absolute TTL).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly authFailures = new Counter({
    name: 'portico_auth_failures_total',
    help: 'Requests refused for want of valid credentials, by auth method (bearer, basic, oauth, ...).',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });
  private readonly rateLimitedRequests = new Counter({
    name: 'portico_rate_limited_total',
    help: 'Requests answered 429, by limit (request: the per-principal request limit; tool: a per-tool limit) and tool.',
    labelNames: ['limit', 'tool'] as const,
    registers: [this.registry],
  });
  private readonly streamsRefused = new Counter({
    name: 'portico_streams_refused_total',
    help: 'Long-lived streams refused at a cap, by kind (mcp_get, sse, listen) and limit (principal: 429; instance: 503).',
    labelNames: ['kind', 'limit'] as const,
    registers: [this.registry],
  });
  private readonly auditWriteDuration = new Histogram({
    name: 'portico_audit_write_duration_seconds',
    help: 'Duration of one batched audit INSERT, by result (ok, failed).',
    labelNames: ['result'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly auditRows = new Counter({
    name: 'portico_audit_rows_written_total',
    help: 'Audit rows the database accepted.',
    registers: [this.registry],
  });

  constructor(
    private readonly invoker: ToolInvoker,
    private readonly audit: AuditService,
  ) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'portico_build_info',
      help: 'Always 1; the labels name the running build.',
      labelNames: ['version', 'commit'] as const,
      registers: [this.registry],
    }).set({ version: PACKAGE_VERSION, commit: BUILD_COMMIT ?? 'unknown' }, 1);
    new Gauge({
      name: 'portico_audit_queue_depth',
      help: 'Audit events waiting in memory for the writer.',
      registers: [this.registry],
      collect() {
        this.set(audit.backlog.queued);
      },
    });
    new Gauge({
      name: 'portico_audit_journal_bytes',
      help: 'Size of the on-disk audit journal (events the database has not taken yet); 0 normally.',
      registers: [this.registry],
      collect() {
        this.set(audit.backlog.journalBytes);
      },
    });
    new Gauge({
      name: 'portico_audit_held_events',
      help: 'Audit events held in memory only: the database is away and the journal cannot be written (readiness fails); 0 normally.',
      registers: [this.registry],
      collect() {
        this.set(audit.backlog.held);
      },
    });
    new Gauge({
      name: 'portico_audit_dropped_events',
      help: 'Audit events lost since start: held in memory past the bound while neither the database nor the journal took them; 0 normally.',
      registers: [this.registry],
      collect() {
        this.set(audit.backlog.dropped);
      },
    });
    new Gauge({
      name: 'portico_tool_calls_in_flight',
      help: 'Tool calls running now.',
      registers: [this.registry],
      collect() {
        this.set(invoker.inFlight);
      },
    });
    // Present from the first scrape, so dashboards and alerts see zeros rather than no data.
    for (const era of ['legacy', 'modern']) for (const transport of era === 'legacy' ? ['streamable-http', 'sse'] : ['streamable-http']) this.activeSessions.set({ era, transport }, 0);
  }

  onModuleInit(): void {
    this.invoker.addListener(this);
    this.audit.onWrite(({ rows, durationMs, ok }) => {
      this.auditWriteDuration.observe({ result: ok ? 'ok' : 'failed' }, durationMs / 1000);
      if (ok) this.auditRows.inc(rows);
    });
  }

  onToolCall(event: ToolCallEvent): void {
    this.toolCalls.inc({ tool: event.tool, outcome: event.outcome });
    this.toolDuration.observe({ tool: event.tool }, event.durationMs / 1000);
    this.toolPercentiles.observe({ tool: event.tool }, event.durationMs);
  }

  /** A request refused for want of valid credentials; `method`: bearer, basic, oauth... */
  authFailure(method: string): void {
    this.authFailures.inc({ method: label(method) });
  }

  /** A request answered 429: by the request limit, or by a tool's limit (then also counted as a tool call). */
  rateLimited(limit: 'request' | 'tool', tool?: string): void {
    this.rateLimitedRequests.inc({ limit, tool: tool ?? '' });
    if (tool) this.toolCalls.inc({ tool, outcome: 'rate_limited' });
  }

  /** A long-lived stream refused at the per-principal or per-instance cap. */
  streamRefused(kind: string, limit: 'principal' | 'instance'): void {
    this.streamsRefused.inc({ kind, limit });
  }

  /** One JSON-RPC message received on an MCP transport. */
  mcpRequest(method: unknown, era: 'legacy' | 'modern'): void {
    const name = typeof method === 'string' ? (MCP_METHODS.has(method) ? method : 'other') : 'response';
    this.mcpRequests.inc({ method: name, era });
  }

  sessionOpened(era: 'legacy' | 'modern', transport: string): void {
    if (era === 'legacy') this.sessionsOpened.inc({ transport });
    this.activeSessions.inc({ era, transport });
  }

  /**
   * A legacy session opened that any instance may serve (REDIS_URL): counted
   * as opened; as active only while this instance holds its GET stream
   * ({@link roamingStream}).
   */
  roamingSessionOpened(): void {
    this.sessionsOpened.inc({ transport: 'streamable-http' });
  }

  /** A roaming session's GET stream taken up (+1) or let go (-1) by this instance. */
  roamingStream(delta: 1 | -1): void {
    this.activeSessions.inc({ era: 'legacy', transport: 'streamable-http' }, delta);
  }

  /** A roaming session ended (`evicted` and `expired` count as evictions). */
  roamingSessionEnded(reason: string): void {
    if (reason === 'evicted' || reason === 'expired') this.sessionEvictions.inc({ reason });
  }

  /** `reason`: why it ended; `evicted` and `expired` count as evictions. */
  sessionEnded(era: 'legacy' | 'modern', transport: string, reason: string): void {
    this.activeSessions.dec({ era, transport });
    if (reason === 'evicted' || reason === 'expired') this.sessionEvictions.inc({ reason });
  }

  /** Express middleware counting the MCP app's requests by route and status. */
  httpMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
    const known = new Set(KNOWN_ROUTES);
    return (req, res, next) => {
      res.once('close', () => {
        const routePath = (req.route as { path?: unknown } | undefined)?.path;
        let route = typeof routePath === 'string' ? routePath : undefined;
        if (route) known.add(route);
        else route = known.has(req.path) ? req.path : 'other';
        this.httpRequests.inc({ route, method: req.method, status: res.headersSent ? String(res.statusCode) : 'aborted' });
      });
      next();
    };
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Calls, errors and latency percentiles of every tool called since the process started. */
  async toolStats(): Promise<ToolStats[]> {
    const stats = new Map<string, ToolStats>();
    const of = (tool: string) => {
      let s = stats.get(tool);
      if (!s) stats.set(tool, (s = { tool, calls: 0, errors: 0, rateLimited: 0, outcomes: {}, p50Ms: null, p99Ms: null }));
      return s;
    };
    for (const { labels, value } of (await this.toolCalls.get()).values) {
      const s = of(String(labels.tool));
      const outcome = String(labels.outcome);
      s.outcomes[outcome] = value;
      if (outcome === 'rate_limited') s.rateLimited += value;
      else s.calls += value;
      if (ERROR_OUTCOMES.has(outcome)) s.errors += value;
    }
    for (const { labels, value } of (await this.toolPercentiles.get()).values) {
      const quantile = (labels as { quantile?: number }).quantile;
      if (quantile === undefined || Number.isNaN(value)) continue;
      const s = of(String(labels.tool));
      const ms = Math.round(value * 1000) / 1000;
      if (quantile === 0.5) s.p50Ms = ms;
      if (quantile === 0.99) s.p99Ms = ms;
    }
    return [...stats.values()].sort((a, b) => (a.tool < b.tool ? -1 : 1));
  }
}
