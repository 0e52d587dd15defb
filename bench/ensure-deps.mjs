#!/usr/bin/env node
// `npm ci` in bench/ (the peers' and the load client's dependencies, apart from the product's),
// skipped when bench/node_modules was installed from the same package-lock.json.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = dirname(fileURLToPath(import.meta.url));
const stamp = join(BENCH, 'node_modules', '.portico-bench-lock');
const hash = createHash('sha256').update(readFileSync(join(BENCH, 'package-lock.json'))).digest('hex');
if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) process.exit(0);
execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: BENCH, stdio: ['ignore', 2, 2] });
writeFileSync(stamp, hash);
