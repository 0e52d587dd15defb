import { ToolInvoker, type ToolCallEvent } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditService, AuditWrite } from '../audit/audit.service';
import { PROJECT_ROOT } from '../common/paths';
import { MetricsService } from './metrics.service';

function setup() {
  const invoker = new ToolInvoker({ server: { name: 't', version: '1' }, defaultTimeoutMs: 1000, requestState: { key: new Uint8Array(32), ttlSeconds: 60 } });
  const writes: ((w: AuditWrite) => void)[] = [];
  const audit = { backlog: { queued: 7, held: 3, dropped: 1, journaled: true, journalBytes: 512 }, onWrite: (l: (w: AuditWrite) => void) => writes.push(l) };
  const metrics = new MetricsService(invoker, audit as unknown as AuditService);
  metrics.onModuleInit();
  return { metrics, invoker, writes };
}

const call = (tool: string, outcome: ToolCallEvent['outcome'], durationMs: number) =>
  ({ tool, outcome, durationMs, namespace: 'n', principal: { id: 'p' }, era: 'modern', arguments: {}, startedAt: new Date(), resultBytes: 1 }) as ToolCallEvent;

const value = async (metrics: MetricsService, name: string, labels: Record<string, string> = {}) =>
  (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;

describe('MetricsService', () => {
  it('counts tool calls by outcome, and reports calls, errors and percentiles per tool', async () => {
    const { metrics } = setup();
    for (let i = 1; i <= 100; i++) metrics.onToolCall(call('lookup', 'ok', i));
    metrics.onToolCall(call('lookup', 'timeout', 1000));
    metrics.onToolCall(call('lookup', 'invalid_input', 1));
    metrics.onToolCall(call('lookup', 'cancelled', 5));
    metrics.rateLimited('tool', 'lookup');

    expect(await value(metrics, 'portico_tool_calls_total', { tool: 'lookup', outcome: 'ok' })).toBe(100);
    expect(await value(metrics, 'portico_tool_call_duration_seconds', { tool: 'lookup', le: '+Inf' })).toBe(103);
    const [stats] = await metrics.toolStats();
    expect(stats).toMatchObject({ tool: 'lookup', calls: 103, errors: 2, rateLimited: 1, outcomes: { ok: 100, timeout: 1, invalid_input: 1, cancelled: 1, rate_limited: 1 } });
    expect(stats.p50Ms).toBeGreaterThanOrEqual(45);
    expect(stats.p50Ms).toBeLessThanOrEqual(56);
    expect(stats.p99Ms).toBeGreaterThanOrEqual(99);
  });

  it('keeps label values bounded: unknown MCP methods are "other", responses "response"', async () => {
    const { metrics } = setup();
    metrics.mcpRequest('tools/call', 'modern');
    metrics.mcpRequest('x'.repeat(500), 'legacy');
    metrics.mcpRequest(undefined, 'legacy');
    metrics.authFailure('bearer token with spaces');

    expect(await value(metrics, 'portico_mcp_requests_total', { method: 'tools/call', era: 'modern' })).toBe(1);
    expect(await value(metrics, 'portico_mcp_requests_total', { method: 'other', era: 'legacy' })).toBe(1);
    expect(await value(metrics, 'portico_mcp_requests_total', { method: 'response', era: 'legacy' })).toBe(1);
    expect(await value(metrics, 'portico_auth_failures_total', { method: 'other' })).toBe(1);
  });

  it('labels HTTP requests by route pattern, never by raw path', async () => {
    const { metrics } = setup();
    const middleware = metrics.httpMiddleware();
    const request = (path: string, route: string | undefined, status: number) => {
      const res = Object.assign(new EventEmitter(), { statusCode: status, headersSent: true }) as unknown as Response;
      middleware({ path, method: 'POST', route: route ? { path: route } : undefined } as unknown as Request, res, () => undefined);
      (res as unknown as EventEmitter).emit('close');
    };
    request('/mcp', '/mcp', 200);
    request('/mcp', undefined, 403); // refused before routing: still its route
    request('/wp-admin/secret-123', undefined, 404);

    expect(await value(metrics, 'portico_http_requests_total', { route: '/mcp', status: '403' })).toBe(1);
    expect(await value(metrics, 'portico_http_requests_total', { route: 'other', status: '404' })).toBe(1);
  });

  it('reads the audit backlog at scrape time and times audit writes', async () => {
    const { metrics, writes } = setup();
    writes.forEach((w) => w({ rows: 200, durationMs: 12, ok: true }));
    writes.forEach((w) => w({ rows: 50, durationMs: 3000, ok: false }));

    const text = await metrics.scrape();
    expect(text).toContain('portico_audit_queue_depth 7');
    expect(text).toContain('portico_audit_journal_bytes 512');
    expect(text).toContain('portico_audit_held_events 3');
    expect(text).toContain('portico_audit_dropped_events 1');
    expect(text).toContain('portico_audit_rows_written_total 200');
    expect(text).toContain('portico_audit_write_duration_seconds_count{result="failed"} 1');
  });

  it('tracks active sessions by era and counts evictions', async () => {
    const { metrics } = setup();
    metrics.sessionOpened('legacy', 'sse');
    metrics.sessionOpened('legacy', 'sse');
    metrics.sessionEnded('legacy', 'sse', 'evicted');
    metrics.sessionOpened('modern', 'streamable-http');

    expect(await value(metrics, 'portico_active_sessions', { era: 'legacy', transport: 'sse' })).toBe(1);
    expect(await value(metrics, 'portico_active_sessions', { era: 'modern' })).toBe(1);
    expect(await value(metrics, 'portico_session_evictions_total', { reason: 'evicted' })).toBe(1);
  });

  describe('the documentation', () => {
    const { metrics } = setup();
    const registered = new Set(metrics.registry.getMetricsAsArray().map((m) => m.name));
    const histograms = new Set(metrics.registry.getMetricsAsArray().filter((m) => String(m.type) === 'histogram').map((m) => m.name));
    /** A series name as queried → the metric that exposes it (histogram series carry suffixes). */
    const metricOf = (series: string) => {
      const base = series.replace(/_(bucket|sum|count)$/, '');
      return histograms.has(base) ? base : series;
    };

    it('docs/grafana-dashboard.json is valid JSON whose queries use only metrics Portico exposes', () => {
      const dashboard = JSON.parse(readFileSync(join(PROJECT_ROOT, 'docs', 'grafana-dashboard.json'), 'utf8')) as {
        panels: { title: string; targets?: { expr: string }[] }[];
        templating: { list: { definition?: string }[] };
      };
      const exprs = [
        ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
        ...dashboard.templating.list.map((v) => v.definition ?? ''),
      ];
      const used = new Set(exprs.flatMap((e) => e.match(/\b(portico|process|nodejs)_[a-z0-9_]+/g) ?? []).map(metricOf));

      expect(exprs.length).toBeGreaterThan(15);
      expect([...used].filter((name) => !registered.has(name))).toEqual([]);
      // Every Portico metric has a panel.
      expect([...registered].filter((name) => name.startsWith('portico_') && !used.has(name))).toEqual([]);
    });

    it('docs/operations.md lists exactly the portico_* metrics, and every other metric it names exists', () => {
      const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
      const table = [...doc.matchAll(/^\| `(portico_[a-z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
      const named = new Set((doc.match(/\b(portico|process|nodejs)_[a-z0-9_]+/g) ?? []).map(metricOf));

      expect(table).toEqual([...registered].filter((n) => n.startsWith('portico_')).sort());
      // `nodejs_eventloop_lag_p50_seconds` / `_p90_` / `_p99_` is written in short.
      expect([...named].filter((n) => !registered.has(n) && !/_$/.test(n))).toEqual([]);
    });
  });
});
