import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as Pg } from 'pg';
import { migrate } from '../../src/cli/migrate.command';
import { loadConfig } from '../../src/config/app-config';
import { localCluster as cluster, pgctl, postgresAvailable, postgresReady, scratchDatabase } from '../support/postgres';
import { spawnPortico } from '../support/process';
import { tempDirs } from '../support/temp-dirs';

const TOKEN = 'fault-token-0123456789abcdef';

async function toolCallRows(url: string): Promise<{ rows: number; distinct: number }> {
  const pg = new Pg({ connectionString: url });
  await pg.connect();
  try {
    const { rows } = await pg.query(`SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct FROM audit_events WHERE kind = 'tool_call'`);
    return rows[0];
  } finally {
    await pg.end();
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function connect(url: string): Promise<V1Client> {
  const client = new V1Client({ name: 'fault', version: '1' });
  await client.connect(new V1Transport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  return client;
}

/**
 * PostgreSQL goes away under load: tool calls keep succeeding, their audit
 * rows wait in the journal, and once the database is back every call has
 * exactly one row — also when Portico itself was killed in between.
 */
describe('audit log when PostgreSQL goes away', () => {
  const tempDir = tempDirs('portico-fault-');
  let available = false;
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;

  beforeAll(async () => {
    available = await postgresAvailable();
    if (available && !cluster) {
      if (process.env.CI === 'true') throw new Error('CI=true but no local PostgreSQL cluster to stop and start (pg_ctlcluster)');
      available = false;
    }
    if (!available) return;
    scratch = await scratchDatabase();
    await migrate(loadConfig({ DATABASE_URL: scratch.url, LOG_LEVEL: 'silent' }));
  });

  afterAll(async () => {
    if (cluster && available && !postgresReady()) pgctl('start');
    await scratch?.drop();
  });

  it('a steady stream of calls survives a stop and start of PostgreSQL, and each call is recorded once', async () => {
    if (!available) return;
    const run = spawnPortico({ DATA_DIR: tempDir(), PORT: '0', STATUS_PORT: '0', AUTH_TOKENS: `fault:${TOKEN}`, DATABASE_URL: scratch!.url, LOG_LEVEL: 'info' });
    try {
      const [, url] = await run.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/);
      const client = await connect(url);
      let calls = 0;
      const call = async () => {
        const result = await client.callTool({ name: 'get_current_time', arguments: {} });
        expect(result.isError).toBeFalsy();
        calls++;
      };
      for (let i = 0; i < 20; i++) await call();
      pgctl('stop');
      try {
        for (let i = 0; i < 30; i++) await call();
      } finally {
        pgctl('start');
      }
      for (let i = 0; i < 20; i++) await call();
      await client.close();
      expect(calls).toBe(70);
      await eventually(async () => (await toolCallRows(scratch!.url)).rows >= 70);
      expect(await toolCallRows(scratch!.url)).toEqual({ rows: 70, distinct: 70 });
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('killed with SIGKILL while PostgreSQL is away, Portico replays its journal on the next start', async () => {
    if (!available) return;
    const env = { DATA_DIR: tempDir(), PORT: '0', STATUS_PORT: '0', AUTH_TOKENS: `fault:${TOKEN}`, DATABASE_URL: scratch!.url, LOG_LEVEL: 'info' };
    const before = (await toolCallRows(scratch!.url)).rows;
    const first = spawnPortico(env);
    const [, url] = await first.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/);
    const client = await connect(url);
    for (let i = 0; i < 10; i++) await client.callTool({ name: 'get_current_time', arguments: {} });
    pgctl('stop');
    try {
      for (let i = 0; i < 15; i++) expect((await client.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
      await new Promise((r) => setTimeout(r, 500)); // a flush delay is enough for the journal to hold them
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
    } finally {
      pgctl('start');
    }
    await client.close().catch(() => undefined);

    const second = spawnPortico(env);
    try {
      await second.waitFor(/"mcpUrl"/);
      await eventually(async () => (await toolCallRows(scratch!.url)).rows >= before + 25);
      expect(await toolCallRows(scratch!.url)).toEqual({ rows: before + 25, distinct: before + 25 });
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
