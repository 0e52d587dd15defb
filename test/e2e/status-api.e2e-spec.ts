import SwaggerParser from '@apidevtools/swagger-parser';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OpenAPIV3 } from 'openapi-types';
import { ReadinessRegistry } from '../../src/health/readiness.registry';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { type MetricFamily, parsePrometheusText, sampleValue } from '../support/prometheus-text';

const ADMIN = 'status-admin-token-0123456789';
const SCRAPER = 'metrics-scrape-token-0123456789';

/**
 * The status port of the real app: health, the status API with and without
 * the admin token, Prometheus metrics, and the OpenAPI document.
 */
describe('status port', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico({ STATUS_ADMIN_TOKEN: ADMIN, METRICS_TOKEN: SCRAPER });
  });
  afterAll(async () => {
    await portico?.stop();
  });

  const get = (path: string, token?: string) => fetch(`${portico.statusUrl}${path}`, { headers: token ? bearer(token) : {} });
  const json = async (path: string, token?: string) => {
    const res = await get(path, token);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, res };
  };
  const scrape = async (): Promise<Map<string, MetricFamily>> => {
    const res = await get('/metrics', SCRAPER);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };

  async function modernClient(token = TOKENS.alice): Promise<Client> {
    const client = new Client({ name: 'ops-modern', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(token) } }));
    return client;
  }

  it('readiness names every built-in indicator, up', async () => {
    const { status, body } = await json('/health/ready');

    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(Object.keys(body.details as object).sort()).toEqual(['audit', 'database', 'lifecycle', 'sessions']);
    expect(body.details).toMatchObject({ database: { status: 'up' }, sessions: { status: 'up' }, audit: { status: 'up', queued: expect.any(Number) } });
    expect((await get('/health/live')).status).toBe(200);
  });

  it('GET /status without the admin token: the public view only', async () => {
    for (const token of [undefined, 'wrong-token-0123456789', SCRAPER]) {
      const { status, body } = await json('/status', token);
      expect(status).toBe(200);
      expect(body).toEqual({ view: 'public', status: 'ok', dependencies: { lifecycle: 'up', database: 'up', sessions: 'up', audit: 'up' } });
    }
  });

  it('GET /status with the admin token: the full view', async () => {
    const client = await modernClient();
    const legacy = new V1Client({ name: 'ops-status-legacy', version: '1' });
    const legacyTransport = new V1Transport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.bob) } });
    await legacy.connect(legacyTransport);
    try {
      const { status, body } = await json('/status', ADMIN);

      expect(status).toBe(200);
      expect(body).toMatchObject({
        view: 'full',
        status: 'ok',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        draining: false,
        transports: { streamableHttp: true, legacySse: true },
        authModes: ['bearer'],
        sessions: { legacy: { streamableHttp: 1, sse: 0 }, modern: { listenStreams: 0 } },
        audit: { queued: expect.any(Number), journaled: false, journalBytes: 0 },
        dependencies: { database: { status: 'up' }, sessions: { status: 'up' }, audit: { status: 'up' }, lifecycle: { status: 'up' } },
        rateLimit: { requests: 600, windowMs: 60_000, tools: {} },
      });
      expect(body.protocolRevisions).toEqual(expect.arrayContaining(['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']));
      expect((body.registry as { providers: unknown[] }).providers).toContainEqual({ namespace: 'time', tools: 2 });
      expect(body.uptimeSeconds).toEqual(expect.any(Number));
      expect(new Date(body.startedAt as string).getTime()).toBeLessThanOrEqual(Date.now());
    } finally {
      await legacyTransport.terminateSession();
      await legacy.close();
      await client.close();
    }
  });

  it('GET /status/sessions needs the admin token and lists legacy sessions without their full ids', async () => {
    const unauthorized = await get('/status/sessions');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer realm="Portico status"');
    expect((await get('/status/sessions', SCRAPER)).status).toBe(401);

    const client = new Client({ name: 'ops-sessions', version: '2.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } });
    await client.connect(transport);
    try {
      const { status, body } = await json('/status/sessions', ADMIN);
      expect(status).toBe(200);
      const sessions = body.sessions as Record<string, unknown>[];
      const mine = sessions.find((s) => s.client === 'ops-sessions');
      expect(mine).toEqual({
        idPrefix: transport.sessionId!.slice(0, 8),
        principal: 'token:alice',
        client: 'ops-sessions',
        era: 'legacy',
        transport: 'streamable-http',
        protocolVersion: '2025-11-25',
        ageSeconds: expect.any(Number),
        idleSeconds: expect.any(Number),
      });
      expect(JSON.stringify(body)).not.toContain(transport.sessionId!);
      expect(body.modern).toEqual({ listenStreams: 0 });
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });

  it('GET /status/tools needs the admin token and counts calls, errors and latency per tool', async () => {
    expect((await get('/status/tools')).status).toBe(401);
    const before = ((await json('/status/tools', ADMIN)).body.tools as { tool: string; calls: number; errors: number }[]).find((t) => t.tool === 'convert_time');
    const client = await modernClient();
    try {
      await client.callTool({ name: 'convert_time', arguments: { source_timezone: 'UTC', time: '12:00', target_timezone: 'Asia/Tokyo' } });
      await client.callTool({ name: 'convert_time', arguments: { source_timezone: 'Nowhere/Else', time: '12:00', target_timezone: 'UTC' } });
      await client.callTool({ name: 'convert_time', arguments: { time: 42 } });
    } finally {
      await client.close();
    }
    const { body } = await json('/status/tools', ADMIN);
    const stats = (body.tools as Record<string, unknown>[]).find((t) => t.tool === 'convert_time')!;

    expect(stats.calls).toBe((before?.calls ?? 0) + 3);
    expect(stats.errors).toBe((before?.errors ?? 0) + 2);
    expect(stats.outcomes).toMatchObject({ ok: expect.any(Number), invalid_input: expect.any(Number) });
    expect(stats.p50Ms).toEqual(expect.any(Number));
    expect(stats.p99Ms as number).toBeGreaterThanOrEqual(stats.p50Ms as number);
    expect(new Date(body.since as string).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('/metrics needs the metrics or admin token, never opens the admin routes, and parses as Prometheus text', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', 'wrong-token-0123456789')).status).toBe(401);
    expect((await get('/metrics', ADMIN)).status).toBe(200);
    expect((await get('/audit', SCRAPER)).status).toBe(401);

    const families = await scrape();
    for (const name of [
      'portico_http_requests_total',
      'portico_mcp_requests_total',
      'portico_tool_calls_total',
      'portico_tool_call_duration_seconds',
      'portico_active_sessions',
      'portico_session_evictions_total',
      'portico_auth_failures_total',
      'portico_rate_limited_total',
      'portico_audit_queue_depth',
      'portico_audit_journal_bytes',
      'portico_audit_write_duration_seconds',
      'nodejs_eventloop_lag_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect([name, families.has(name)]).toEqual([name, true]);
    }
    expect(families.get('portico_tool_call_duration_seconds')!.type).toBe('histogram');
    expect(families.get('portico_tool_calls_total')!.type).toBe('counter');
  });

  it('the tool-call counter and latency histogram move after calls, in both eras', async () => {
    const labels = { tool: 'get_current_time' };
    const before = await scrape();
    const count = (f: Map<string, MetricFamily>, outcome: string) => sampleValue(f, 'portico_tool_calls_total', { ...labels, outcome }) ?? 0;
    const observed = (f: Map<string, MetricFamily>) => sampleValue(f, 'portico_tool_call_duration_seconds_count', labels) ?? 0;
    const inf = (f: Map<string, MetricFamily>) => sampleValue(f, 'portico_tool_call_duration_seconds_bucket', { ...labels, le: '+Inf' }) ?? 0;
    const mcp = (f: Map<string, MetricFamily>, era: string) => sampleValue(f, 'portico_mcp_requests_total', { method: 'tools/call', era }) ?? 0;

    const modern = await modernClient();
    const legacy = new V1Client({ name: 'ops-metrics-legacy', version: '1' });
    const legacyTransport = new V1Transport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.bob) } });
    await legacy.connect(legacyTransport);
    const during = await scrape();
    try {
      for (let i = 0; i < 3; i++) await modern.callTool({ name: 'get_current_time', arguments: {} });
      await legacy.callTool({ name: 'get_current_time', arguments: {} });
      await modern.callTool({ name: 'get_current_time', arguments: { timezone: 'Not/AZone' } });
    } finally {
      await modern.close();
    }
    const after = await scrape();

    expect(count(after, 'ok') - count(before, 'ok')).toBe(4);
    expect(count(after, 'invalid_input') - count(before, 'invalid_input')).toBe(1);
    expect(observed(after) - observed(before)).toBe(5);
    expect(inf(after) - inf(before)).toBe(5);
    expect(sampleValue(after, 'portico_tool_call_duration_seconds_sum', labels)!).toBeGreaterThan(sampleValue(before, 'portico_tool_call_duration_seconds_sum', labels) ?? 0);
    expect(mcp(after, 'modern') - mcp(before, 'modern')).toBe(4);
    expect(mcp(after, 'legacy') - mcp(before, 'legacy')).toBe(1);
    const active = (f: Map<string, MetricFamily>) => sampleValue(f, 'portico_active_sessions', { era: 'legacy', transport: 'streamable-http' })!;
    expect(active(during) - active(before)).toBe(1);
    expect(sampleValue(after, 'portico_http_requests_total', { route: '/mcp', method: 'POST', status: '200' })).toBeGreaterThan(0);

    await legacyTransport.terminateSession();
    await legacy.close();
    expect(active(await scrape())).toBe(active(before));
  });

  it('counts authentication failures by method', async () => {
    const failures = async () => sampleValue(await scrape(), 'portico_auth_failures_total', { method: 'bearer' }) ?? 0;
    const before = await failures();

    const res = await fetch(portico.mcpUrl, { method: 'POST', headers: { ...bearer('not-a-valid-token-000000'), 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);

    expect((await failures()) - before).toBe(1);
    expect(sampleValue(await scrape(), 'portico_http_requests_total', { route: '/mcp', method: 'POST', status: '401' })).toBeGreaterThan(0);
  });

  it('serves an OpenAPI 3 document of the status API that validates', async () => {
    const { status, body } = await json('/status/openapi.json');
    expect(status).toBe(200);

    const document = (await SwaggerParser.validate(structuredClone(body) as never)) as OpenAPIV3.Document;

    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths).sort()).toEqual(
      ['/audit', '/audit/verify', '/health', '/health/live', '/health/ready', '/metrics', '/status', '/status/sessions', '/status/tools'].sort(),
    );
    expect(Object.keys(document.components!.securitySchemes!).sort()).toEqual(['admin', 'metrics']);
    expect(document.paths['/status/tools']!.get!.security).toEqual([{ admin: [] }]);
    const tools = document.components!.schemas!.ToolStatsDto as OpenAPIV3.SchemaObject;
    expect(Object.keys(tools.properties!)).toEqual(expect.arrayContaining(['tool', 'calls', 'errors', 'p50Ms', 'p99Ms']));
  });

  describe('readiness checks contributed by modules (ReadinessRegistry)', () => {
    const ready = () => json('/health/ready');

    it('a required dependency that fails makes readiness 503, named with its message; unregistered, it is gone', async () => {
      const unregister = portico.app.get(ReadinessRegistry).register({
        name: 'openproject',
        check: async () => {
          throw new Error('GET /health_checks/default answered 502');
        },
      });
      try {
        const { status, body } = await ready();
        expect(status).toBe(503);
        expect(body.status).toBe('error');
        expect(body.error).toEqual({ openproject: { status: 'down', message: 'GET /health_checks/default answered 502', responseTime: expect.any(Number) } });
        expect((await json('/status')).body).toMatchObject({ status: 'error', dependencies: { openproject: 'down', database: 'up' } });
      } finally {
        unregister();
      }
      expect((await ready()).status).toBe(200);
    });

    it('a dependency that does not answer in time is down after its timeout', async () => {
      const unregister = portico.app.get(ReadinessRegistry).register({
        name: 'redis',
        timeoutMs: 200,
        check: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      });
      try {
        const started = Date.now();
        const { status, body } = await ready();
        expect(status).toBe(503);
        expect(Date.now() - started).toBeLessThan(2000);
        expect((body.error as Record<string, { status: string; message: string }>).redis).toMatchObject({ status: 'down', message: expect.stringMatching(/time/i) });
      } finally {
        unregister();
      }
    });

    it('an optional dependency that fails is degraded: readiness stays 200', async () => {
      const unregister = portico.app.get(ReadinessRegistry).register({
        name: 'openproject',
        severity: 'optional',
        check: async () => {
          throw new Error('connection refused');
        },
      });
      try {
        const { status, body } = await ready();
        expect(status).toBe(200);
        expect(body.status).toBe('degraded');
        expect((body.details as Record<string, unknown>).openproject).toMatchObject({ status: 'degraded', message: 'connection refused' });
      } finally {
        unregister();
      }
    });
  });
});

/** The parser the metrics tests rely on must refuse what Prometheus would. */
describe('the Prometheus text parser of these tests', () => {
  const valid = [
    '# HELP a_total Things.\\nWith a second line.',
    '# TYPE a_total counter',
    'a_total{x="1",y="q\\"uote\\\\d\\n"} 3',
    'a_total{x="2"} 1e3 1700000000000',
    '# TYPE h histogram',
    'h_bucket{le="0.1"} 1',
    'h_bucket{le="+Inf"} 2',
    'h_sum 0.3',
    'h_count 2',
    'g NaN',
    'g2 -Inf',
    '',
  ].join('\n');

  it('reads a valid exposition, with escapes, timestamps and special values', () => {
    const families = parsePrometheusText(valid);
    expect(families.get('a_total')).toMatchObject({ type: 'counter', help: 'Things.\nWith a second line.' });
    expect(sampleValue(families, 'a_total', { y: 'q"uote\\d\n' })).toBe(3);
    expect(families.get('a_total')!.samples[1]).toMatchObject({ value: 1000, timestamp: 1700000000000 });
    expect(sampleValue(families, 'h_bucket', { le: '+Inf' })).toBe(2);
    expect(sampleValue(families, 'g')).toBeNaN();
  });

  it.each([
    ['a missing final newline', 'a 1'],
    ['a bad metric name', '1a 1\n'],
    ['a bad label name', 'a{1x="v"} 1\n'],
    ['a reserved label name', 'a{__name__="v"} 1\n'],
    ['an unquoted label value', 'a{x=v} 1\n'],
    ['a bad escape', 'a{x="\\t"} 1\n'],
    ['an unterminated label value', 'a{x="v} 1\n'],
    ['a missing value', 'a{x="v"}\n'],
    ['a value that is no float', 'a one\n'],
    ['a fractional timestamp', 'a 1 1.5\n'],
    ['a duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['a duplicate label', 'a{x="1",x="2"} 1\n'],
    ['a second TYPE', '# TYPE a gauge\n# TYPE a gauge\na 1\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['an unknown type', '# TYPE a meter\na 1\n'],
    ['a negative counter', '# TYPE a counter\na -1\n'],
    ['a family split in two', 'a{x="1"} 1\nb 1\na{x="2"} 1\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf differing from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['a histogram without _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
