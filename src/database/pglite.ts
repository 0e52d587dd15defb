import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  const template = templatePath();
  const useTemplate = fresh && existsSync(template);
  const driver = new PGliteDriver({
    dataDir: dir,
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'max_connections=5'],
    ...(useTemplate ? { loadDataDir: new Blob([readFileSync(template)]) } : {}),
  }).driver;
  return { driver, usedTemplate: useTemplate };
}
