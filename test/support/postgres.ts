import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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

/** The local PostgreSQL cluster (Debian's pg_ctlcluster), for fault tests that stop and start it; undefined elsewhere. */
export const localCluster: { version: string } | undefined = (() => {
  if (!existsSync('/etc/postgresql')) return undefined;
  const [version] = readdirSync('/etc/postgresql');
  return version ? { version } : undefined;
})();

/** True when PostgreSQL on 127.0.0.1:5432 accepts connections. */
export function postgresReady(): boolean {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops (fast) or starts the local cluster the way an operator would; `start`
 * returns once it accepts connections. Other suites share the cluster: keep
 * the stop short and start it again in a `finally`.
 */
export function pgctl(action: 'stop' | 'start'): void {
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', localCluster!.version, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])], {
    stdio: 'ignore',
  });
  if (action === 'start') {
    for (let i = 0; i < 100 && !postgresReady(); i++) execFileSync('sleep', ['0.1']);
    if (!postgresReady()) throw new Error('PostgreSQL did not come back');
  }
}
