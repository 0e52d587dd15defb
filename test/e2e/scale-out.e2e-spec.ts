import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, nginxAvailable, type RunningNginx, startNginx } from '../support/nginx';
import { bearer } from '../support/portico';
import { POSTGRES_URL } from '../support/postgres';
import { spawnPortico, type Spawned } from '../support/process';
import { dropRedisPrefix, REDIS_URL, testRedisPrefix, withRedisStopped } from '../support/redis';
import { tempDirs } from '../support/temp-dirs';

const describeWithNginx = nginxAvailable ? describe : describe.skip;

/** One principal per scenario, so their request budgets do not mix. */
const TOKENS = {
  v1: 'v1-client-token-0123456789',
  v2: 'v2-client-token-0123456789',
  get: 'get-client-token-0123456789',
  kill: 'kill-client-token-0123456789',
  limit: 'limit-client-token-0123456789',
  outage: 'outage-client-token-0123456789',
};
const RATE_LIMIT = 70;
const CALLS = 50;

interface Instance {
  id: string;
  port: number;
  statusPort: number;
  process: Spawned;
}

/** A fetch that records which instance answered each request (X-Portico-Instance), and its method. */
function recordingFetch() {
  const answers: { method: string; instance: string; status: number; lastEventId: string | null }[] = [];
  const record = (async (input: string | URL | Request, init?: RequestInit) => {
    const response = await fetch(input, init);
    const lastEventId = new Headers(init?.headers).get('last-event-id');
    answers.push({ method: init?.method ?? 'GET', instance: response.headers.get('x-portico-instance') ?? '?', status: response.status, lastEventId });
    return response;
  }) as typeof fetch;
  return { fetch: record, answers };
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const json = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

/** One modern (stateless) tools/call over raw HTTP. */
function modernCall(url: string, token: string) {
  return fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { ...bearer(token), ...json, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'get_current_time' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_current_time', arguments: {}, _meta: MODERN_META } }),
  });
}

/**
 * The acceptance of scale-out (docs/scaling.md): two Portico processes on
 * the real Redis and PostgreSQL behind Debian's nginx with plain
 * round-robin, driven by the official clients through nginx.
 */
describeWithNginx('scale-out: two instances behind nginx round-robin (REDIS_URL)', () => {
  const tempDir = tempDirs('portico-scale-');
  const prefix = testRedisPrefix('scale');
  const instances: Instance[] = [];
  let nginx: RunningNginx;

  const env = (id: string, port: number, statusPort: number) => ({
    PORT: String(port),
    STATUS_PORT: String(statusPort),
    INSTANCE_ID: id,
    DATA_DIR: tempDir(),
    DATABASE_URL: POSTGRES_URL,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    TRUST_PROXY: '1',
    AUTH_TOKENS: Object.entries(TOKENS)
      .map(([name, token]) => `${name}:${token}`)
      .join(','),
    RATE_LIMIT_REQUESTS: String(RATE_LIMIT),
    RATE_LIMIT_WINDOW_SECONDS: '300',
    PORTICO_CONFORMANCE_FIXTURES: 'true',
    SHUTDOWN_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'warn',
  });

  async function start(instance: Omit<Instance, 'process'>): Promise<Instance> {
    const started = { ...instance, process: spawnPortico(env(instance.id, instance.port, instance.statusPort)) };
    await waitUntil(async () => {
      if (started.process.child.exitCode !== null) throw new Error(`instance ${instance.id} exited:\n${started.process.stderr()}`);
      return (await fetch(`http://127.0.0.1:${instance.statusPort}/health/ready`).catch(() => undefined))?.status === 200;
    }, 30_000);
    return started;
  }

  const ready = (instance: Instance) => fetch(`http://127.0.0.1:${instance.statusPort}/health/ready`);

  beforeAll(async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    instances.push(...(await Promise.all([start({ id: 'a', port: ports[0], statusPort: ports[1] }), start({ id: 'b', port: ports[2], statusPort: ports[3] })])));
    nginx = await startNginx(tempDir(), instances.map((i) => `127.0.0.1:${i.port}`));
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    for (const instance of instances) {
      instance.process.child.kill('SIGTERM');
      await Promise.race([instance.process.exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    await dropRedisPrefix(prefix);
  });

  it(`v1 and v2 legacy clients each run a session of ${CALLS} calls; both instances serve each session; every call succeeds`, async () => {
    for (const [label, token] of [
      ['v1', TOKENS.v1],
      ['v2', TOKENS.v2],
    ] as const) {
      const seen = recordingFetch();
      const options = { requestInit: { headers: bearer(token) }, fetch: seen.fetch };
      const client = label === 'v1' ? new V1Client({ name: 'scale-v1', version: '1' }) : new Client({ name: 'scale-v2', version: '1' });
      const transport = label === 'v1' ? new V1Transport(new URL(`${nginx.url}/mcp`), options) : new StreamableHTTPClientTransport(new URL(`${nginx.url}/mcp`), options);
      await client.connect(transport as never);
      for (let i = 0; i < CALLS; i++) {
        const result = await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Europe/Berlin' } });
        expect(result.isError).toBeFalsy();
        expect((result.structuredContent as { timezone: string }).timezone).toBe('Europe/Berlin');
      }
      const calls = seen.answers.filter((a) => a.method === 'POST');
      expect(calls.every((a) => a.status === 200 || a.status === 202)).toBe(true);
      expect(new Set(calls.map((a) => a.instance))).toEqual(new Set(['a', 'b']));
      await (transport as StreamableHTTPClientTransport).terminateSession();
      await client.close();
    }
  });

  it('a GET stream held by one instance receives the notification triggered by a call served by the other', async () => {
    const seen = recordingFetch();
    const client = new Client({ name: 'scale-get', version: '1' });
    let heard = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => void heard++);
    const transport = new StreamableHTTPClientTransport(new URL(`${nginx.url}/mcp`), { requestInit: { headers: bearer(TOKENS.get) }, fetch: seen.fetch });
    await client.connect(transport);
    await waitUntil(() => seen.answers.some((a) => a.method === 'GET'));
    const holder = seen.answers.find((a) => a.method === 'GET')!.instance;

    // Round-robin: of two calls, one is served by the instance that does not hold the stream.
    const servedBy: string[] = [];
    for (let i = 0; i < 2; i++) {
      await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
      servedBy.push(seen.answers.at(-1)!.instance);
    }
    expect(servedBy).toContain(holder === 'a' ? 'b' : 'a');
    await waitUntil(() => heard === 2);
    await transport.terminateSession();
    await client.close();
  });

  it(`a per-principal limit of ${RATE_LIMIT} requests allows ${RATE_LIMIT} in total across both instances`, async () => {
    const statuses: number[] = [];
    const answeredBy = new Set<string>();
    for (let i = 0; i < RATE_LIMIT + 10; i++) {
      const res = await modernCall(nginx.url, TOKENS.limit);
      await res.text();
      statuses.push(res.status);
      answeredBy.add(res.headers.get('x-portico-instance')!);
    }
    expect(answeredBy).toEqual(new Set(['a', 'b']));
    expect(statuses.filter((s) => s === 200)).toHaveLength(RATE_LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it('Redis stopped: readiness 503, modern calls served, legacy initialize refused with a clear error; Redis back: all recovers', async () => {
    await withRedisStopped(async () => {
      await waitUntil(async () => (await Promise.all(instances.map(ready))).every((r) => r.status === 503), 5000);
      const body = (await (await ready(instances[0])).json()) as { error: Record<string, { message?: string }> };
      expect(body.error.redis.message).toMatch(/Redis/);

      for (let i = 0; i < 2; i++) {
        const res = await modernCall(nginx.url, TOKENS.outage);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { result: { isError?: boolean } }).result.isError).toBeFalsy();
      }
      const init = await fetch(`${nginx.url}/mcp`, {
        method: 'POST',
        headers: { ...bearer(TOKENS.outage), ...json },
        body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'outage', version: '1' } } }),
      });
      expect(init.status).toBe(503);
      expect(((await init.json()) as { error: { message: string } }).error.message).toMatch(/Legacy sessions are unavailable: the session store \(Redis\) cannot be reached/);
    });

    await waitUntil(async () => (await Promise.all(instances.map(ready))).every((r) => r.status === 200), 15_000);
    const seen = recordingFetch();
    const client = new Client({ name: 'after-outage', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${nginx.url}/mcp`), { requestInit: { headers: bearer(TOKENS.outage) }, fetch: seen.fetch }));
    for (let i = 0; i < 4; i++) expect((await client.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
    expect(new Set(seen.answers.filter((a) => a.method === 'POST').map((a) => a.instance))).toEqual(new Set(['a', 'b']));
    await client.close();
  });

  it('the instance holding a GET stream is SIGKILLed mid-session: the client resumes with Last-Event-ID on the other, gets the missed events, and finishes', async () => {
    const seen = recordingFetch();
    const client = new Client({ name: 'scale-kill', version: '1' });
    let heard = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => void heard++);
    const transport = new StreamableHTTPClientTransport(new URL(`${nginx.url}/mcp`), { requestInit: { headers: bearer(TOKENS.kill) }, fetch: seen.fetch });
    await client.connect(transport);
    await waitUntil(() => seen.answers.some((a) => a.method === 'GET'));
    const holderId = seen.answers.find((a) => a.method === 'GET')!.instance;
    const holder = instances.find((i) => i.id === holderId)!;
    const survivor = instances.find((i) => i.id !== holderId)!;

    // The open stream delivers (and the client learns an event id to resume from).
    await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
    await waitUntil(() => heard === 1);

    holder.process.child.kill('SIGKILL');
    await holder.process.exited;
    // Produced while the client's stream is down: stored, to be replayed on its reconnect.
    for (let i = 0; i < 2; i++) await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
    await waitUntil(() => heard === 3, 15_000);
    const resumed = seen.answers.filter((a) => a.method === 'GET');
    expect(resumed.length).toBeGreaterThanOrEqual(2);
    expect(resumed.at(-1)).toMatchObject({ instance: survivor.id, status: 200, lastEventId: expect.stringMatching(/^_GET_stream\/\d+-\d+$/) });

    for (let i = 0; i < 10; i++) expect((await client.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
    expect(seen.answers.slice(-10).every((a) => a.instance === survivor.id)).toBe(true);
    expect(heard).toBe(3);
    await transport.terminateSession();
    await client.close();
  });
});
