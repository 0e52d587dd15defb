import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomBytes } from 'node:crypto';
import { Client as Pg } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { POSTGRES_URL, postgresAvailable } from '../support/postgres';
import { spawnPortico } from '../support/process';
import { tempDirs } from '../support/temp-dirs';

const SLOW_MS = 30_000;
/** Answers received before the kill. */
const ANSWERS = 80;

type AnyClient = Client | V1Client;

async function connect(url: string, token: string, era: 'modern' | 'legacy'): Promise<AnyClient> {
  const requestInit = { headers: { Authorization: `Bearer ${token}` } };
  if (era === 'legacy') {
    const client = new V1Client({ name: 'sigkill-v1', version: '1' });
    await client.connect(new V1Transport(new URL(url), { requestInit }));
    return client;
  }
  const client = new Client({ name: 'sigkill-modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit }));
  return client;
}

/**
 * Drives Portico with a slow call in flight and a steady stream of short
 * calls on both eras, each with a unique `ms` argument, and SIGKILLs it
 * mid-stream. Returns the `ms` of every call whose answer the client
 * received.
 */
async function killMidStream(env: Record<string, string>, token: string): Promise<{ answered: number[]; slowAnswered: boolean }> {
  const run = spawnPortico(env);
  const [, url] = await run.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/).catch((e) => {
    run.child.kill('SIGKILL');
    throw e;
  });
  const clients = await Promise.all((['modern', 'legacy', 'modern', 'legacy'] as const).map((era) => connect(url, token, era)));
  const answered: number[] = [];
  let slowAnswered = false;
  const slow = clients[1].callTool({ name: 'test_sleep', arguments: { ms: SLOW_MS } }, undefined, { timeout: 60_000 }).then(
    () => (slowAnswered = true),
    () => undefined,
  );
  let next = 0;
  let killed = false;
  let failure: unknown;
  const stream = clients.map(async (client) => {
    while (!killed && !failure) {
      const ms = next++; // unique per call; the calls grow slower, so they complete at every moment
      try {
        const result = await client.callTool({ name: 'test_sleep', arguments: { ms } });
        if ((result as { isError?: boolean }).isError) throw new Error(`call ${ms} failed: ${JSON.stringify(result)}`);
        answered.push(ms); // also an answer that raced the kill: it reached the client
      } catch (e) {
        if (!killed) failure ??= e;
        return;
      }
    }
  });
  // Let a steady stream run, then kill without warning while calls are completing.
  const deadline = Date.now() + 60_000;
  while (answered.length < ANSWERS && !failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  run.child.kill('SIGKILL');
  killed = true;
  expect(await run.exited).toBe('SIGKILL');
  // Calls cut by the kill fail at once, or hang in a client's reconnect loop: nothing can answer them any more.
  const settle = () => new Promise((r) => setTimeout(r, 3000));
  await Promise.race([Promise.all(stream), settle()]);
  void slow;
  await Promise.race([Promise.all(clients.map((c) => c.close().catch(() => undefined))), settle()]);
  if (failure) throw new Error(`a call failed before the kill: ${String(failure)}\n${run.stderr().slice(-2000)}`);
  return { answered, slowAnswered };
}

/** Starts Portico on the same data (replaying any journal), lets it settle, stops it gracefully. */
async function restart(env: Record<string, string>): Promise<void> {
  const run = spawnPortico(env);
  await run.waitFor(/"mcpUrl"/);
  await new Promise((r) => setTimeout(r, 500));
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
}

/** Rows per `ms` argument of the principal's test_sleep calls. */
function countByMs(rows: Record<string, unknown>[]): Map<number, number> {
  return new Map(rows.map((r) => [Number(r.ms), Number(r.rows)]));
}

const ROWS_SQL = `SELECT (arguments->>'ms')::int AS ms, count(*)::int AS rows, count(DISTINCT event_id)::int AS events
  FROM audit_events WHERE kind = 'tool_call' AND tool = 'test_sleep' AND principal_id = $1 GROUP BY 1`;

function expectExactlyOnce(answered: number[], byMs: Map<number, number>): void {
  expect(answered.length).toBeGreaterThanOrEqual(ANSWERS);
  // The zero-loss assertion: every answer the client received has exactly one row.
  const missing = answered.filter((ms) => byMs.get(ms) !== 1);
  expect(missing).toEqual([]);
  // No call is recorded twice, whatever its fate.
  expect([...byMs.values()].filter((n) => n !== 1)).toEqual([]);
  // The call in flight at the kill never completed: no answer, no row (docs/reliability.md).
  expect(byMs.has(SLOW_MS)).toBe(false);
}

/**
 * SIGKILL of Portico mid-call: a tool call is answered only once its audit
 * row is durable, so every call whose answer the client received has
 * exactly one row after the restart; the call in flight has none.
 */
describe('audit log when Portico is killed with SIGKILL mid-call', () => {
  const tempDir = tempDirs('portico-sigkill-');
  const token = `sigkill-${randomBytes(12).toString('hex')}`;

  jest.setTimeout(180_000);

  it('PostgreSQL: every answered call has exactly one audit row', async () => {
    if (!(await postgresAvailable())) return;
    const name = `sigkill-pg-${randomBytes(6).toString('hex')}`;
    const env = { DATA_DIR: tempDir(), PORT: '0', STATUS_PORT: '0', AUTH_TOKENS: `${name}:${token}`, DATABASE_URL: POSTGRES_URL, PORTICO_CONFORMANCE_FIXTURES: 'true', LOG_LEVEL: 'info' };
    const { answered, slowAnswered } = await killMidStream(env, token);
    expect(slowAnswered).toBe(false);
    await restart(env);
    const pg = new Pg({ connectionString: POSTGRES_URL });
    await pg.connect();
    try {
      const { rows } = await pg.query(ROWS_SQL, [`token:${name}`]);
      expect(rows.every((r) => r.rows === r.events)).toBe(true);
      expectExactlyOnce(answered, countByMs(rows));
    } finally {
      await pg.end();
    }
  });

  it('embedded database (PGlite): every answered call has exactly one audit row', async () => {
    const name = `sigkill-pglite-${randomBytes(6).toString('hex')}`;
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, PORT: '0', STATUS_PORT: '0', AUTH_TOKENS: `${name}:${token}`, DATABASE_URL: '', PORTICO_CONFORMANCE_FIXTURES: 'true', LOG_LEVEL: 'info' };
    const { answered } = await killMidStream(env, token);
    await restart(env);
    // The embedded database of that data directory (single-process: Portico has exited).
    const db = new DataSource(dataSourceOptions({ database: {}, dataDir }).options);
    await db.initialize();
    const rows = await db.query(ROWS_SQL, [`token:${name}`]).finally(() => db.destroy());
    expectExactlyOnce(answered, countByMs(rows));
  });
});
