import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
  return dir;
}

/** The folder holding package.json, whether running from src/ (tests) or dist/. */
export const PROJECT_ROOT = findRoot(__dirname);

export const PACKAGE_VERSION: string = require(join(PROJECT_ROOT, 'package.json')).version;

/** The commit of this build (`dist/build-info.json`, written by `npm run build`); undefined when unknown. */
export const BUILD_COMMIT: string | undefined = (() => {
  try {
    const info = JSON.parse(readFileSync(join(PROJECT_ROOT, 'dist', 'build-info.json'), 'utf8')) as { commit?: string | null };
    return info.commit ?? undefined;
  } catch {
    return undefined;
  }
})();
