import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { queryDatabase } from '../support/database';
import { bearer } from '../support/portico';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text';
import { type Spawned, spawnPortico } from '../support/process';
import { tempDirs } from '../support/temp-dirs';

const TOKEN = 'shutdown-token-0123456789abcdef';
const ADMIN = 'shutdown-admin-token-0123456789';

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * SIGTERM to the built app (`node dist/src/main.js`, with the conformance
 * fixtures for their `test_sleep` tool) while a call runs: readiness turns
 * 503 at once, new requests are refused, the call finishes and is audited,
 * and the process exits 0. A second SIGTERM exits at once.
 */
describe('graceful shutdown of the built app', () => {
  const tempDir = tempDirs('portico-shutdown-');

  async function start(env: Record<string, string> = {}) {
    const dataDir = tempDir();
    const run = spawnPortico({
      DATA_DIR: dataDir,
      PORT: '0',
      STATUS_PORT: '0',
      AUTH_TOKENS: `ops:${TOKEN}`,
      STATUS_ADMIN_TOKEN: ADMIN,
      PORTICO_CONFORMANCE_FIXTURES: 'true',
      LOG_LEVEL: 'info',
      ...env,
    });
    const [, mcpUrl, statusUrl] = await run.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)","statusUrl":"(http:\/\/127\.0\.0\.1:\d+)"/);
    return { run, dataDir, mcpUrl, statusUrl };
  }

  const inFlight = async (statusUrl: string) => {
    const text = await (await fetch(`${statusUrl}/metrics`, { headers: bearer(ADMIN) })).text();
    return sampleValue(parsePrometheusText(text), 'portico_tool_calls_in_flight') ?? 0;
  };

  async function legacyClient(mcpUrl: string) {
    const client = new V1Client({ name: 'shutdown-legacy', version: '1' });
    const transport = new V1Transport(new URL(mcpUrl), { requestInit: { headers: bearer(TOKEN) } });
    await client.connect(transport);
    return { client, transport };
  }

  const kill = (run: Spawned) => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  };

  it('SIGTERM during a long call: readiness 503 at once, new requests refused, the call completes and is audited, exit 0', async () => {
    const { run, dataDir, mcpUrl, statusUrl } = await start({ SHUTDOWN_TIMEOUT_MS: '20000' });
    try {
      const { client, transport } = await legacyClient(mcpUrl);
      const sessionId = transport.sessionId!;
      const call = client.callTool({ name: 'test_sleep', arguments: { ms: 2500 } }, undefined, { timeout: 30_000 });
      await eventually(async () => ((await inFlight(statusUrl)) === 1 ? true : undefined));

      const signalled = Date.now();
      run.child.kill('SIGTERM');

      const ready = await eventually(async () => {
        const res = await fetch(`${statusUrl}/health/ready`);
        return res.status === 503 ? ((await res.json()) as { error: Record<string, { message: string }> }) : undefined;
      });
      expect(Date.now() - signalled).toBeLessThan(1000);
      expect(ready.error.lifecycle.message).toMatch(/shutting down/);
      expect((await fetch(`${statusUrl}/health/live`)).status).toBe(200);

      // A new client cannot start: the listener is closed (or, on a kept-alive connection, 503).
      const modern = new Client({ name: 'shutdown-late', version: '1' }, { versionNegotiation: { mode: 'auto' } });
      await expect(modern.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: bearer(TOKEN) } }))).rejects.toThrow();
      const late = await fetch(mcpUrl, { method: 'POST', headers: { ...bearer(TOKEN), 'Content-Type': 'application/json' }, body: '{}' }).then(
        (r) => r.status,
        () => 'refused',
      );
      expect([503, 'refused']).toContain(late);
      expect(run.child.exitCode).toBeNull(); // still draining

      expect(await call).toMatchObject({ content: [{ type: 'text', text: 'slept 2500 ms' }] });
      expect(await run.exited).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(run.stderr()).toMatch(/"msg":"drained"/);
      expect(run.stderr()).toMatch(/"msg":"stopped"/);
      await client.close().catch(() => undefined);

      const rows = await queryDatabase(dataDir, `SELECT tool, outcome, principal_id FROM audit_events WHERE kind = 'tool_call' AND session_id = $1`, [sessionId]);
      expect(rows).toEqual([{ tool: 'test_sleep', outcome: 'ok', principal_id: 'token:ops' }]);
    } finally {
      kill(run);
    }
  });

  it('a call outlasting the drain deadline is cancelled and audited, and the process still exits 0 in time', async () => {
    // SHUTDOWN_TIMEOUT_MS=4000: in-flight calls get 3 s of it.
    const { run, dataDir, mcpUrl, statusUrl } = await start({ SHUTDOWN_TIMEOUT_MS: '4000' });
    try {
      const { client, transport } = await legacyClient(mcpUrl);
      const sessionId = transport.sessionId!;
      let answered = false;
      void client.callTool({ name: 'test_sleep', arguments: { ms: 30_000 } }, undefined, { timeout: 60_000 }).then(
        () => (answered = true),
        () => undefined,
      );
      await eventually(async () => ((await inFlight(statusUrl)) === 1 ? true : undefined));

      const signalled = Date.now();
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(2500);
      expect(Date.now() - signalled).toBeLessThan(4000);
      expect(run.stderr()).toMatch(/"msg":"drain deadline reached: closing what still runs"/);
      expect(answered).toBe(false);
      await client.close().catch(() => undefined);

      const rows = await queryDatabase(dataDir, `SELECT tool, outcome FROM audit_events WHERE kind = 'tool_call' AND session_id = $1`, [sessionId]);
      expect(rows).toEqual([{ tool: 'test_sleep', outcome: 'cancelled' }]);
    } finally {
      kill(run);
    }
  });

  it('SIGTERM under a steady load of both eras: every call answered 200 delivered its result and is audited; later requests get 503, are refused or reset unrun; no other 5xx; exit 0 in time', async () => {
    // Request ids unique to this run scope its audit rows (the PostgreSQL database is shared).
    const tag = `sl${process.pid}x${Date.now().toString(36)}`;
    const { run, dataDir, mcpUrl } = await start({ SHUTDOWN_TIMEOUT_MS: '10000', RATE_LIMIT_REQUESTS: '0' });
    /** Every HTTP exchange of every client: when it was sent, and its status or network error. */
    const exchanges: { sentAt: number; method: string; requestId: string; status: number | string }[] = [];
    /** Request ids (X-Request-Id, chosen here) of the tool calls whose result reached the client. */
    const answered: string[] = [];
    let stop = false;

    /** One client: sequential calls, each tools/call POST carrying the X-Request-Id of its call. */
    async function load(name: string, era: 'modern' | 'legacy') {
      let current = '';
      let aux = 0;
      const fetchLogged = async (url: string | URL, init?: RequestInit) => {
        const isCall = typeof init?.body === 'string' && init.body.includes('"method":"tools/call"');
        const headers = new Headers(init?.headers);
        const requestId = isCall ? current : `${tag}-${name}-aux-${aux++}`;
        headers.set('X-Request-Id', requestId);
        const exchange = { sentAt: Date.now(), method: init?.method ?? 'GET', requestId, status: 0 as number | string };
        exchanges.push(exchange);
        try {
          const res = await fetch(url, { ...init, headers });
          exchange.status = res.status;
          return res;
        } catch (e) {
          exchange.status = ((e as Error).cause as { code?: string } | undefined)?.code ?? 'network';
          throw e;
        }
      };
      const client =
        era === 'modern'
          ? new Client({ name, version: '1' }, { versionNegotiation: { mode: 'auto' } })
          : new V1Client({ name, version: '1' });
      const transport =
        era === 'modern'
          ? new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: bearer(TOKEN) }, fetch: fetchLogged })
          : new V1Transport(new URL(mcpUrl), { requestInit: { headers: bearer(TOKEN) }, fetch: fetchLogged });
      await client.connect(transport as never);
      for (let n = 0; !stop; n++) {
        current = `${tag}-${name}-call-${n}`;
        try {
          const result = (await client.callTool({ name: 'test_sleep', arguments: { ms: 50 + ((n * 37) % 250) } }, undefined, { timeout: 30_000 })) as { isError?: boolean };
          if (!result.isError) answered.push(current);
        } catch {
          await new Promise((r) => setTimeout(r, 50)); // refused: try again shortly, as clients do
        }
      }
      await client.close().catch(() => undefined);
    }

    try {
      const clients = ['modern', 'legacy'].flatMap((era) => Array.from({ length: 4 }, (_, i) => load(`load-${era}-${i}`, era as 'modern' | 'legacy')));
      await eventually(async () => (answered.length >= 40 ? true : undefined), 30_000);

      const signalled = Date.now();
      run.child.kill('SIGTERM');
      await run.waitFor(/"msg":"draining: new requests are refused/);
      const drainSeen = Date.now();
      expect(await run.exited).toBe(0);
      const exitedAfter = Date.now() - signalled;
      stop = true;
      await Promise.all(clients);

      expect(exitedAfter).toBeLessThan(10_000);
      // Calls kept being answered up to the signal, and calls in flight then were answered too.
      expect(answered.length).toBeGreaterThan(40);
      const statuses = exchanges.map((e) => e.status);
      expect(statuses.filter((s) => typeof s === 'number' && s >= 500 && s !== 503)).toEqual([]);
      expect(statuses.filter((s) => s === 0)).toEqual([]); // every exchange ended one way or the other
      const late = exchanges.filter((e) => e.sentAt > drainSeen);
      expect(late.length).toBeGreaterThan(0);
      // 503 while draining, refused once the listener is closed, or reset: a kept-alive connection
      // the server closes as the drain ends can race a request the client sends on it.
      const RESET = ['ECONNRESET', 'UND_ERR_SOCKET'];
      expect(late.filter((e) => e.status !== 503 && e.status !== 'ECONNREFUSED' && !RESET.includes(String(e.status)))).toEqual([]);
      expect(late.some((e) => e.status === 503)).toBe(true);

      const rows = await queryDatabase(dataDir, `SELECT request_id, era, outcome FROM audit_events WHERE kind = 'tool_call' AND request_id LIKE $1`, [`${tag}-%`]);
      const audited = new Map(rows.map((r) => [r.request_id as string, r]));
      // A call whose POST was answered 200 delivered its result (calls in flight at the signal finished)...
      const calls200 = exchanges.filter((e) => e.requestId.includes('-call-') && e.status === 200).map((e) => e.requestId);
      expect(calls200.filter((id) => !answered.includes(id))).toEqual([]);
      // ...and every call whose result reached its client is audited, in both eras...
      expect(answered.filter((id) => audited.get(id)?.outcome !== 'ok')).toEqual([]);
      expect(new Set(rows.map((r) => r.era))).toEqual(new Set(['modern', 'legacy']));
      // ...and a call whose connection was reset never ran: no answer lost, nothing half done.
      expect(exchanges.filter((e) => RESET.includes(String(e.status)) && audited.has(e.requestId))).toEqual([]);
    } finally {
      stop = true;
      kill(run);
    }
  });

  it('a second SIGTERM exits at once', async () => {
    const { run, mcpUrl, statusUrl } = await start({ SHUTDOWN_TIMEOUT_MS: '30000' });
    try {
      const { client } = await legacyClient(mcpUrl);
      void client.callTool({ name: 'test_sleep', arguments: { ms: 20_000 } }, undefined, { timeout: 60_000 }).catch(() => undefined);
      await eventually(async () => ((await inFlight(statusUrl)) === 1 ? true : undefined));

      run.child.kill('SIGTERM');
      await run.waitFor(/"msg":"draining: new requests are refused/);
      const second = Date.now();
      run.child.kill('SIGTERM');

      expect(await run.exited).toBe(1);
      expect(Date.now() - second).toBeLessThan(1000);
      expect(run.stderr()).toMatch(/"msg":"second signal: exiting now"/);
    } finally {
      kill(run);
    }
  });
});
