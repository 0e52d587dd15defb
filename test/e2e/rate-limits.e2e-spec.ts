import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Module } from '@nestjs/common';
import { Tool, ToolProvider } from '@portico/mcp-core';
import { AuditService } from '../../src/audit/audit.service';
import { bearer, bootPortico, type TestPortico } from '../support/portico';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text';

const TOKENS = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef',
  carol: 'carol-token-0123456789abcdef',
  dave: 'dave-token-0123456789abcdef',
};
const ADMIN = 'status-admin-token-0123456789';

@ToolProvider({ namespace: 'quota' })
class QuotaTools {
  @Tool({ name: 'quota_expensive', description: 'An expensive call: three per principal per minute.', rateLimit: { limit: 3, windowMs: 60_000 } })
  expensive() {
    return 'done';
  }

  @Tool({ name: 'quota_cheap', description: 'A cheap call without a limit of its own.' })
  cheap() {
    return 'cheap';
  }
}

@Module({ providers: [QuotaTools] })
class QuotaModule {}

/** A modern-era (2026-07-28) tools/call as raw HTTP, to see the status and headers. */
function callTool(url: string, token: string, name: string, args: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...bearer(token),
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2026-07-28',
      'Mcp-Method': 'tools/call',
      'Mcp-Name': name,
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'quota-test', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
}

describe('rate limits', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico(
      {
        AUTH_TOKENS: Object.entries(TOKENS).map(([name, token]) => `${name}:${token}`).join(','),
        STATUS_ADMIN_TOKEN: ADMIN,
        RATE_LIMIT_REQUESTS: '25',
        RATE_LIMIT_TOOLS: 'convert_time=1/30s',
      },
      [QuotaModule],
    );
  });
  afterAll(async () => {
    await portico?.stop();
  });

  /** Audit rows of this app instance only: the suites share one PostgreSQL database across runs. */
  const auditRows = (where: string, params: unknown[] = []) =>
    portico.auditRows(`${where} AND instance_id = $${params.length + 1}`, [...params, portico.app.get(AuditService).instanceId]);
  const metrics = async () => parsePrometheusText(await (await fetch(`${portico.statusUrl}/metrics`, { headers: bearer(ADMIN) })).text());

  it('a per-tool limit from @Tool: the call over it gets 429 with Retry-After, audited; other tools and principals are unaffected', async () => {
    for (let i = 0; i < 3; i++) expect((await callTool(portico.mcpUrl, TOKENS.alice, 'quota_expensive')).status).toBe(200);

    const refused = await callTool(portico.mcpUrl, TOKENS.alice, 'quota_expensive');
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(await refused.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: expect.stringMatching(/^Rate limit exceeded for quota_expensive: at most 3 calls per 60 s; retry in \d+ s$/) },
      id: null,
    });

    // The same principal's other tools, and another principal's call of the same tool, still pass.
    const cheap = await callTool(portico.mcpUrl, TOKENS.alice, 'quota_cheap');
    expect(cheap.status).toBe(200);
    expect(await cheap.json()).toMatchObject({ result: { content: [{ type: 'text', text: 'cheap' }] } });
    expect((await callTool(portico.mcpUrl, TOKENS.bob, 'quota_expensive')).status).toBe(200);

    const rows = await auditRows(`tool = 'quota_expensive'`);
    expect(rows.map((r) => [r.principal_id, r.outcome])).toEqual([
      ['token:alice', 'ok'],
      ['token:alice', 'ok'],
      ['token:alice', 'ok'],
      ['token:alice', 'rate_limited'],
      ['token:bob', 'ok'],
    ]);
    expect(rows[3]).toMatchObject({ kind: 'tool_call', era: 'modern', namespace: 'quota', auth_method: 'bearer' });
    expect(rows[3].detail).toMatchObject({ limit: 'tool', max: 3, windowMs: 60_000, retryAfterSeconds: retryAfter });

    const families = await metrics();
    expect(sampleValue(families, 'portico_rate_limited_total', { limit: 'tool', tool: 'quota_expensive' })).toBe(1);
    expect(sampleValue(families, 'portico_tool_calls_total', { tool: 'quota_expensive', outcome: 'rate_limited' })).toBe(1);
    expect(sampleValue(families, 'portico_http_requests_total', { route: '/mcp', method: 'POST', status: '429' })).toBe(1);
  });

  it('a per-tool limit from RATE_LIMIT_TOOLS applies to a tool that declares none', async () => {
    const args = { source_timezone: 'UTC', time: '09:00', target_timezone: 'Europe/Paris' };
    expect((await callTool(portico.mcpUrl, TOKENS.alice, 'convert_time', args)).status).toBe(200);
    const refused = await callTool(portico.mcpUrl, TOKENS.alice, 'convert_time', args);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(30);
  });

  it('holds in the legacy era too: a session client gets the HTTP 429', async () => {
    const client = new V1Client({ name: 'quota-legacy', version: '1' });
    const transport = new V1Transport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.dave) } });
    await client.connect(transport);
    try {
      for (let i = 0; i < 3; i++) expect(await client.callTool({ name: 'quota_expensive', arguments: {} })).toMatchObject({ content: [{ text: 'done' }] });
      await expect(client.callTool({ name: 'quota_expensive', arguments: {} })).rejects.toMatchObject({
        code: 429,
        message: expect.stringContaining('Rate limit exceeded for quota_expensive'),
      });
      expect(await client.callTool({ name: 'quota_cheap', arguments: {} })).toMatchObject({ content: [{ text: 'cheap' }] });
    } finally {
      await transport.terminateSession();
      await client.close();
    }
    const rows = await auditRows(`principal_id = 'token:dave' AND outcome = 'rate_limited'`);
    expect(rows).toMatchObject([{ tool: 'quota_expensive', era: 'legacy' }]);
  });

  it('the request limit counts every request of a principal, on any route; others keep theirs', async () => {
    const statuses: number[] = [];
    // GET /mcp without a session id is a 400, but a request all the same.
    for (let i = 0; i < 26; i++) statuses.push((await fetch(portico.mcpUrl, { headers: bearer(TOKENS.carol) })).status);
    expect(statuses.slice(0, 25)).toEqual(Array(25).fill(400));
    expect(statuses[25]).toBe(429);
    const refused = await callTool(portico.mcpUrl, TOKENS.carol, 'quota_cheap');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).error.message).toMatch(/^Rate limit exceeded: at most 25 requests per 60 s/);

    expect((await callTool(portico.mcpUrl, TOKENS.bob, 'quota_cheap')).status).toBe(200);
    // Liveness for load balancers is never limited.
    expect((await fetch(new URL('/health', portico.mcpUrl), { headers: bearer(TOKENS.carol) })).status).toBe(200);

    const rows = await auditRows(`principal_id = 'token:carol' AND outcome = 'rate_limited'`);
    expect(rows).toMatchObject([{ tool: 'quota_cheap', detail: { limit: 'request', max: 25 } }]);
    expect(sampleValue(await metrics(), 'portico_rate_limited_total', { limit: 'request', tool: '' })).toBe(1);
  });
});

describe('rate limits without a principal: by client IP, honouring TRUST_PROXY', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    // AUTH_DISABLED serves everyone as "anonymous": the tracker falls back to the address.
    portico = await bootPortico({ AUTH_DISABLED: 'true', TRUST_PROXY: '1', RATE_LIMIT_REQUESTS: '3' });
  });
  afterAll(async () => {
    await portico?.stop();
  });

  const from = (ip: string) => fetch(portico.mcpUrl, { headers: { 'X-Forwarded-For': ip } }).then((r) => r.status);

  it('counts each forwarded client address on its own', async () => {
    expect([await from('203.0.113.7'), await from('203.0.113.7'), await from('203.0.113.7')]).toEqual([400, 400, 400]);
    expect(await from('203.0.113.7')).toBe(429);
    expect(await from('203.0.113.8')).toBe(400);
  });
});
