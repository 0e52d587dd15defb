import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir, PGLITE_VERSION, templatePath } from './pglite';

describe('embedded database', () => {
  it('ships an initdb template for the installed PGlite version (regenerate with npm run pglite:template)', () => {
    expect(existsSync(templatePath(PGLITE_VERSION))).toBe(true);
  });

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
