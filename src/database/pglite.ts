import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PGliteDriver } from 'typeorm-pglite';
import { PROJECT_ROOT } from '../common/paths';

/** The PGlite release the shipped template was made with; see scripts/pglite-template.js. */
export const PGLITE_VERSION: string = JSON.parse(
  readFileSync(join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json'), 'utf8'),
).version;

/** Where the initdb'd template for {@link PGLITE_VERSION} lives (shipped with the app). */
export function templatePath(version = PGLITE_VERSION): string {
  return join(PROJECT_ROOT, 'assets', `pglite-${version}.tar.gz`);
}

/**
 * Options for the embedded database, tuned for a small footprint: an on-disk
 * data directory, 16 MB shared buffers, few connections, and a template data
 * directory so the first start skips initdb (see research notes: ~0.7 GB and
 * 4–6 s without these, ~0.3 GB and ~1 s with them).
 */
export function pgliteDriver(dataDir: string): { driver: unknown; usedTemplate: boolean } {
  const dir = join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(dir);
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  const template = templatePath();
  const useTemplate = fresh && existsSync(template);
  const { Pool } = new PGliteDriver({
    dataDir: dir,
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'max_connections=5'],
    ...(useTemplate ? { loadDataDir: new Blob([readFileSync(template)]) } : {}),
  }).driver as { Pool: new () => { end(cb: (e: unknown) => void): void } };
  // The lock lives as long as the database is open: closing the data source releases it.
  class LockedPool extends Pool {
    end(cb: (e: unknown) => void): void {
      super.end((e) => {
        unlock();
        cb(e);
      });
    }
  }
  return { driver: { Pool: LockedPool }, usedTemplate: useTemplate };
}

/**
 * PGlite has no lock of its own: two processes opening one data directory
 * (a running `portico serve` and a desktop client's `portico stdio`, say)
 * would both write and corrupt it. A PID file refuses the second; a stale
 * file (its process gone) is taken over. Returns the release function (also
 * run when the process exits).
 */
export function lockDataDir(dir: string): () => void {
  const lock = join(dir, 'portico.pid');
  const release = () => {
    try {
      if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
    } catch {
      // already gone
    }
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(readFileSync(lock, 'utf8'));
    if (owner === process.pid) return release;
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new Error(
        `The embedded database in ${dir} is in use by process ${owner}. Stop that Portico, give this one its own DATA_DIR, or share a PostgreSQL through DATABASE_URL.`,
      );
    }
    unlinkSync(lock); // stale: its process is gone
  }
  throw new Error(`Could not lock the embedded database in ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
