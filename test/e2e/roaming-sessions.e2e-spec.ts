import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { McpExplorer, McpRegistry, Tool, ToolProvider } from '@portico/mcp-core';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { POSTGRES_URL } from '../support/postgres';
import { cutSlowCountCall } from '../support/raw-mcp';
import { dropRedisPrefix, REDIS_URL, roundRobinFetch, testRedisPrefix } from '../support/redis';
import { ProbeToolsModule } from '../support/test-tools';

@ToolProvider({ namespace: 'roaming' })
class LateTool {
  @Tool({ name: 'late_tool', description: 'Registered at runtime on one instance.' })
  late() {
    return 'late';
  }
}

const accept = (content: Record<string, string | number | boolean>) => ({ action: 'accept' as const, content });

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Two instances in one process sharing Redis (REDIS_URL) and PostgreSQL,
 * with every client request sent to the other instance than the one before
 * (round-robin, no affinity): legacy sessions are served by both, and what
 * one instance produces for a session reaches it through the other.
 */
describe('legacy sessions served by any instance (REDIS_URL)', () => {
  const prefix = testRedisPrefix('roaming');
  let a: TestPortico;
  let b: TestPortico;

  beforeAll(async () => {
    const env = { REDIS_URL, REDIS_PREFIX: prefix, DATABASE_URL: POSTGRES_URL };
    [a, b] = await Promise.all([
      bootPortico({ ...env, INSTANCE_ID: 'a' }, [ProbeToolsModule]),
      bootPortico({ ...env, INSTANCE_ID: 'b' }, [ProbeToolsModule]),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await dropRedisPrefix(prefix);
  });

  const urls = () => [a.mcpUrl, b.mcpUrl];

  it('v2 legacy client: one session, every request on alternating instances, all succeed; DELETE ends it on both', async () => {
    const rr = roundRobinFetch(urls());
    const client = new Client({ name: 'roam-v2', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(a.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) }, fetch: rr.fetch });
    await client.connect(transport);
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    for (let i = 0; i < 10; i++) {
      const result = await client.callTool({ name: 'get_current_time', arguments: { timezone: 'UTC' } });
      expect(result.isError).toBeFalsy();
    }
    expect(new Set(rr.served)).toEqual(new Set(['a', 'b']));
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    await client.close();
    for (const url of urls()) {
      const res = await fetch(url, { method: 'POST', headers: { ...bearer(TOKENS.alice), 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': sessionId }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
      expect(res.status).toBe(404);
    }
  });

  it('v1 client: the same; another principal presenting the session id gets 404', async () => {
    const rr = roundRobinFetch(urls());
    const client = new V1Client({ name: 'roam-v1', version: '1' });
    const transport = new V1Transport(new URL(a.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) }, fetch: rr.fetch });
    await client.connect(transport);
    for (let i = 0; i < 10; i++) expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    expect(new Set(rr.served)).toEqual(new Set(['a', 'b']));
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { ...bearer(TOKENS.bob), 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': transport.sessionId! },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    await client.close();
  });

  it('elicitation: the answer reaching the other instance is routed back to the waiting call', async () => {
    const rr = roundRobinFetch(urls());
    const client = new V1Client({ name: 'roam-elicit', version: '1' }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return req.params.message.startsWith('What') ? accept({ name: 'Ada' }) : accept({ confirm: true });
    });
    await client.connect(new V1Transport(new URL(a.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) }, fetch: rr.fetch }));
    for (let i = 0; i < 2; i++) {
      asked.length = 0;
      const result = await client.callTool({ name: 'greet_user', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'Hello, Ada!' }]);
      expect(asked).toEqual(['What is your name?', 'Greet Ada?']);
    }
    await client.close();
  });

  it('the log level set on one instance holds on the other; progress reaches the client', async () => {
    const rr = roundRobinFetch(urls());
    const client = new V1Client({ name: 'roam-log', version: '1' });
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.level));
    await client.connect(new V1Transport(new URL(a.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) }, fetch: rr.fetch }));
    await client.setLoggingLevel('error');
    const seen: number[] = [];
    for (let i = 0; i < 2; i++) {
      await client.callTool({ name: 'slow_count', arguments: { to: 2, every_ms: 5 } }, undefined, { onprogress: (p) => seen.push(p.progress) });
    }
    expect(seen).toEqual([1, 2, 1, 2]);
    expect(logs).toEqual([]);
    await client.close();
  });

  it('a GET stream held by one instance hears list_changed and resource updates produced on the other', async () => {
    const rr = roundRobinFetch(urls());
    const client = new Client({ name: 'roam-get', version: '1' });
    const heard: string[] = [];
    client.setNotificationHandler('notifications/tools/list_changed', () => void heard.push('tools'));
    client.setNotificationHandler('notifications/resources/updated', (n) => void heard.push(`updated ${(n.params as { uri: string }).uri}`));
    const transport = new StreamableHTTPClientTransport(new URL(a.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) }, fetch: rr.fetch });
    await client.connect(transport);
    // connect = initialize, initialized, GET: wait for the GET to be held somewhere.
    await waitUntil(() => rr.methods.filter((m) => m === 'GET').length > 0);
    const getHolder = rr.served[rr.methods.indexOf('GET')];
    const other = getHolder === 'a' ? b : a;
    await new Promise((r) => setTimeout(r, 200));

    const remove = other.app.get(McpExplorer).register(new LateTool());
    await waitUntil(() => heard.includes('tools'));
    await client.request({ method: 'resources/subscribe', params: { uri: 'test://watched' } });
    other.app.get(McpRegistry).resourceUpdated('test://watched');
    await waitUntil(() => heard.includes('updated test://watched'));
    remove();
    await waitUntil(() => heard.filter((h) => h === 'tools').length === 2);
    await transport.terminateSession();
    await client.close();
  });

  it('a response stream cut on one instance resumes on the other with Last-Event-ID, result delivered once', async () => {
    const headers = { ...bearer(TOKENS.alice), 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    const init = await fetch(a.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cut', version: '1' } } }),
    });
    await init.text();
    const session = { ...headers, 'Mcp-Session-Id': init.headers.get('mcp-session-id')!, 'MCP-Protocol-Version': '2025-11-25' };
    const lastEventId = await cutSlowCountCall(a.mcpUrl, session, 42);
    await new Promise((r) => setTimeout(r, 300));

    const resumed = await fetch(b.mcpUrl, { headers: { ...session, Accept: 'text/event-stream', 'Last-Event-ID': lastEventId } });
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('x-portico-instance')).toBe('b');
    const replay = await resumed.text();
    expect(replay.match(/"id":42/g)).toHaveLength(1);
    expect(replay).toContain('counted to 4');
    expect(replay).not.toContain(`id: ${lastEventId}\n`);
  });
});

describe('Redis unreachable', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    // Nothing listens on port 1: the instance boots, and says why it is not ready.
    portico = await bootPortico({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: testRedisPrefix('down'), DATABASE_URL: POSTGRES_URL });
  });

  afterAll(async () => {
    await portico?.stop();
  });

  it('readiness 503 naming redis; legacy initialize refused with a clear error; modern calls served', async () => {
    const ready = await fetch(`${portico.statusUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: Record<string, unknown> }).error).toHaveProperty('redis');

    const headers = { ...bearer(TOKENS.alice), 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    const init = await fetch(portico.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(init.status).toBe(503);
    expect(((await init.json()) as { error: { message: string } }).error.message).toMatch(/session store \(Redis\) cannot be reached.*2026-07-28/);

    const modern = new Client({ name: 'modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));
    expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect((await modern.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
    await modern.close();
  });
});
