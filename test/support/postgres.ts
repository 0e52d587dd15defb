import { Client } from 'pg';

/** The PostgreSQL the integration suites use: DATABASE_URL, else the local default. */
export const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * True when PostgreSQL answers. Under CI=true an unreachable server is an
 * error, never a skip.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`CI=true and PostgreSQL at ${POSTGRES_URL} is unreachable: ${(e as Error).message}`);
    process.stderr.write(`PostgreSQL at ${POSTGRES_URL} is unreachable: skipping (CI would fail)\n`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates an empty database for one test file; returns its URL and a drop function. */
export async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `portico_it_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
