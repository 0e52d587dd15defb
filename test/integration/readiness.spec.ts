import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { migrate } from '../../src/cli/migrate.command';
import { loadConfig } from '../../src/config/app-config';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { localCluster as cluster, pgctl, postgresAvailable, postgresReady as isReady, scratchDatabase } from '../support/postgres';

interface Health {
  status: string;
  error?: Record<string, { status: string; message?: string }>;
  details: Record<string, { status: string; message?: string }>;
}

/** Polls /health/ready until `want`; returns the body and how long it took. */
async function readyUntil(statusUrl: string, want: number, timeoutMs: number): Promise<{ body: Health; ms: number }> {
  const started = Date.now();
  for (;;) {
    const res = await fetch(`${statusUrl}/health/ready`);
    const body = (await res.json()) as Health;
    if (res.status === want) return { body, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`readiness still ${res.status} after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Readiness on the real PostgreSQL: 503 naming `database` within seconds of
 * the cluster stopping, the audit backlog only degraded meanwhile, and 200
 * again once it is back. The cluster is shared with other suites: the stop
 * is kept short and the start always runs.
 */
describe('readiness when PostgreSQL goes away', () => {
  let available = false;
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  let portico: TestPortico | undefined;

  beforeAll(async () => {
    available = await postgresAvailable();
    if (available && !cluster) {
      if (process.env.CI === 'true') throw new Error('CI=true but no local PostgreSQL cluster to stop and start (pg_ctlcluster)');
      available = false;
    }
    if (!available) return;
    scratch = await scratchDatabase();
    await migrate(loadConfig({ DATABASE_URL: scratch.url, LOG_LEVEL: 'silent' }));
    portico = await bootPortico({ DATABASE_URL: scratch.url, READINESS_TIMEOUT_MS: '1500' });
  });

  afterAll(async () => {
    if (cluster && available && !isReady()) pgctl('start');
    await portico?.stop();
    await scratch?.drop();
  });

  it('goes 503 naming the database while it is stopped, with the audit journal only degraded, and 200 once it is back', async () => {
    if (!available) return;
    const { statusUrl, mcpUrl } = portico!;
    expect((await readyUntil(statusUrl, 200, 5000)).body.details.database.status).toBe('up');
    const client = new V1Client({ name: 'readiness', version: '1' });
    await client.connect(new V1Transport(new URL(mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));

    let down: { body: Health; ms: number };
    let degraded: Health;
    pgctl('stop');
    try {
      down = await readyUntil(statusUrl, 503, 5000);
      // Calls go on; their audit rows wait in the journal.
      for (let i = 0; i < 3; i++) expect((await client.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
      degraded = (await readyUntil(statusUrl, 503, 1000)).body;
      for (let i = 0; i < 20 && degraded.details.audit.status !== 'degraded'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        degraded = (await readyUntil(statusUrl, 503, 1000)).body;
      }
    } finally {
      pgctl('start');
    }

    expect(down.ms).toBeLessThan(5000);
    expect(down.body.status).toBe('error');
    expect(Object.keys(down.body.error!)).toEqual(['database']);
    expect(down.body.error!.database).toMatchObject({ status: 'down', message: expect.any(String) });
    expect(down.body.details.sessions.status).toBe('up');
    // The growing journal is named, but only the database fails readiness.
    expect(Object.keys(degraded.error!)).toEqual(['database']);
    expect(degraded.details.audit).toMatchObject({ status: 'degraded', message: expect.stringMatching(/journal/) });

    const up = await readyUntil(statusUrl, 200, 15_000);
    expect(up.body.details.database.status).toBe('up');
    // The journal drains into the database; the audit indicator is up again.
    const drained = Date.now();
    let body = up.body;
    while (body.details.audit.status !== 'up' && Date.now() - drained < 15_000) {
      await new Promise((r) => setTimeout(r, 200));
      body = (await readyUntil(statusUrl, 200, 5000)).body;
    }
    expect(body.status).toBe('ok');
    expect(body.details.audit.status).toBe('up');
    const rows = await portico!.auditRows(`kind = 'tool_call' AND principal_id = 'token:alice'`);
    expect(rows).toHaveLength(3);
    await client.close();
  });
});
