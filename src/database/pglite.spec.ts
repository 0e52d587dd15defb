import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir, PGLITE_VERSION, templatePath, unpackTemplate } from './pglite';

describe('embedded database', () => {
  it('ships an initdb template for the installed PGlite version (regenerate with npm run pglite:template)', () => {
    expect(existsSync(templatePath(PGLITE_VERSION))).toBe(true);
  });

  it('unpacks the template into a data directory PGlite opens without initdb', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-template-'));
    try {
      unpackTemplate(templatePath(), dir);
      expect(statSync(join(dir, 'pg_wal', '000000010000000000000001')).size).toBe(16 * 1024 * 1024);
      expect(statSync(dir).mode & 0o077).toBe(0);
      const { PGlite } = await import('@electric-sql/pglite');
      const lines: string[] = [];
      const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
      const db = await PGlite.create({ dataDir: dir, debug: 1 }).finally(() => log.mockRestore());
      try {
        expect(lines).toContain('pglite: found DB, resuming');
        expect(lines.join('\n')).not.toMatch(/initdb/);
        const { rows } = await db.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY datname');
        expect(rows.map((r) => r.datname)).toEqual(['postgres', 'template0', 'template1']);
      } finally {
        await db.close();
      }
      expect(readdirSync(dir)).toEqual(expect.arrayContaining(['PG_VERSION', 'base', 'global', 'pg_wal']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  describe('data directory lock', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'portico-lock-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses a directory held by another live process, naming it', async () => {
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
      try {
        writeFileSync(join(dir, 'portico.pid'), String(other.pid));
        expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${other.pid}`));
      } finally {
        other.kill();
      }
    });

    it('takes over a stale lock whose process is gone', () => {
      writeFileSync(join(dir, 'portico.pid'), '2147483646');
      lockDataDir(dir);
      expect(readFileSync(join(dir, 'portico.pid'), 'utf8')).toBe(String(process.pid));
    });

    it('is re-entrant within one process, and released by its release function', () => {
      const release = lockDataDir(dir);
      expect(() => lockDataDir(dir)).not.toThrow();
      release();
      expect(existsSync(join(dir, 'portico.pid'))).toBe(false);
    });
  });
});
