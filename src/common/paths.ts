import { existsSync } from 'node:fs';
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
