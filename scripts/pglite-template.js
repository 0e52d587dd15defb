#!/usr/bin/env node
// Makes assets/pglite-<version>.tar.gz: an initdb'd PGlite data directory that the
// embedded database loads on its first start instead of running initdb (saves ~3 s
// and ~0.4 GB peak). Re-run after upgrading @electric-sql/pglite; the old file can go.
// The unit test src/database/pglite.spec.ts fails when the template is missing.
const { mkdirSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

async function main() {
  const { PGlite } = await import('@electric-sql/pglite');
  const version = require(join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json')).version;
  const db = await PGlite.create();
  await db.query('select 1');
  const dump = await db.dumpDataDir('gzip');
  await db.close();
  const out = join(__dirname, '..', 'assets', `pglite-${version}.tar.gz`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, Buffer.from(await dump.arrayBuffer()));
  process.stderr.write(`wrote ${out} (${dump.size} bytes)\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
