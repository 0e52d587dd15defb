import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { gunzipSync } from 'node:zlib';
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
 * Options for the embedded database, tuned for a small footprint (see
 * docs/operations.md, "Memory and start-up"): an on-disk data directory,
 * 8 MB shared buffers, few connections, the shipped template unpacked into a
 * fresh data directory instead of running initdb, and WebAssembly compiled by
 * the baseline compiler only. PGlite and its driver are loaded here, so a
 * PostgreSQL deployment never loads them.
 */
export function pgliteDriver(dataDir: string): { driver: unknown; usedTemplate: boolean } {
  const dir = join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(dir);
  const template = templatePath();
  const useTemplate = !existsSync(join(dir, 'PG_VERSION')) && existsSync(template);
  if (useTemplate) unpackTemplate(template, dir);
  // TurboFan tier-up of PGlite's 8.7 MB module costs ~65 MB RSS for nothing the
  // audit log's small statements need (they run as fast on Liftoff). Process-wide,
  // so only set when the embedded database is used; it applies to modules
  // compiled from now on.
  setFlagsFromString('--liftoff-only');
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { PGliteDriver } = require('typeorm-pglite') as typeof import('typeorm-pglite');
  // Buffers are touched as the audit table grows: 16 MB of them made a one-time RSS step of
  // ~14 MB some 10 s into sustained load (~16,000 rows); 8 MB fill within the first seconds.
  // The audit log's inserts touch only the tables' and indexes' right edges (time-ordered
  // event ids), so fewer buffers cost them nothing measurable.
  const { Pool } = new PGliteDriver({
    dataDir: dir,
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=8MB', '-c', 'max_connections=5'],
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
 * Unpacks the template (a gzipped ustar archive of directories and regular
 * files, as PGlite's dumpDataDir writes it) into `dir` with plain file
 * writes. PGlite's own loadDataDir would copy it through its in-memory
 * file system and keep ~110 MB more resident after the first start. PG_VERSION
 * is written last: a start interrupted half-way unpacks again next time.
 */
export function unpackTemplate(file: string, dir: string): void {
  const tar = gunzipSync(readFileSync(file));
  const text = (at: number, length: number) => tar.toString('latin1', at, at + length).replace(/\0.*$/s, '');
  const made = new Set([dir]);
  const makeDir = (path: string) => {
    if (!made.has(path)) mkdirSync(path, { recursive: true, mode: 0o700 });
    made.add(path);
  };
  let last: (() => void) | undefined;
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const size = parseInt(text(at + 124, 12).trim() || '0', 8);
    const [prefix, name] = [text(at + 345, 155), text(at, 100)];
    const target = resolve(dir, `./${prefix ? `${prefix}/` : ''}${name}`);
    if (relative(dir, target).startsWith('..')) throw new Error(`The database template has an entry outside its directory: ${name}`);
    const mode = parseInt(text(at + 100, 8).trim() || '0', 8) & 0o700;
    const type = String.fromCharCode(tar[at + 156]);
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === '5') {
      makeDir(target);
      continue;
    }
    if (type !== '0' && type !== '\0') throw new Error(`The database template has an unsupported entry: ${name}`);
    const write = () => {
      makeDir(dirname(target));
      writeFileSync(target, data, { mode: mode || 0o600 });
    };
    if (name.endsWith('/PG_VERSION') && dirname(target) === dir) last = write;
    else write();
  }
  last?.();
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
