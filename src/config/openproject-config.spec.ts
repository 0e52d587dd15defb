import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSummary, loadConfig } from './app-config';
import { ConfigError } from './config.error';

const KEY = 'opkey-service-0000000000000000000000000000';
const ENC = Buffer.alloc(32, 7).toString('base64');

function problems(env: Record<string, string>): { key: string; message: string }[] {
  try {
    loadConfig(env, '/srv');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('OPENPROJECT_* configuration', () => {
  it('is off without OPENPROJECT_URL, and the summary says so', () => {
    const config = loadConfig({}, '/srv');

    expect(config.openproject).toBeUndefined();
    expect(configSummary(config).openproject).toBe('off');
  });

  it('parses a service-account setup with its defaults', () => {
    const config = loadConfig({ OPENPROJECT_URL: 'http://openproject:8080/', OPENPROJECT_API_KEY: KEY, OPENPROJECT_WRITE: 'workPackages, comments' }, '/srv');

    expect(config.openproject).toMatchObject({
      url: 'http://openproject:8080',
      webUrl: 'http://openproject:8080',
      identity: 'service',
      apiKey: KEY,
      write: ['workPackages', 'comments'],
      allowDelete: false,
      projects: [],
      maxPageSize: 100,
      timeoutMs: 10_000,
      cacheTtlMs: 300_000,
    });
    expect(JSON.stringify(configSummary(config))).not.toContain(KEY);
  });

  it('reads the API key and the encryption key from files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-config-'));
    try {
      writeFileSync(join(dir, 'key'), `${KEY}\n`);
      writeFileSync(join(dir, 'enc'), Buffer.alloc(32, 1).toString('hex'));
      const config = loadConfig({ OPENPROJECT_URL: 'http://op:8080', OPENPROJECT_API_KEY_FILE: 'key', OPENPROJECT_IDENTITY: 'per-user', OPENPROJECT_KEY_ENCRYPTION_KEY_FILE: 'enc' }, dir);

      expect(config.openproject?.apiKey).toBe(KEY);
      expect(config.openproject?.encryptionKey).toEqual(Buffer.alloc(32, 1));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('lists every bad OpenProject key at once', () => {
    const found = problems({
      OPENPROJECT_URL: 'ftp://openproject',
      OPENPROJECT_IDENTITY: 'per-user',
      OPENPROJECT_KEY_ENCRYPTION_KEY: 'short',
      OPENPROJECT_WRITE: 'workPackages,admin',
      OPENPROJECT_FORWARDED_PROTO: 'gopher',
    });

    expect(found.map((p) => p.key).sort()).toEqual(['OPENPROJECT_FORWARDED_PROTO', 'OPENPROJECT_KEY_ENCRYPTION_KEY', 'OPENPROJECT_URL', 'OPENPROJECT_WRITE']);
    expect(found.find((p) => p.key === 'OPENPROJECT_WRITE')?.message).toContain('unknown category "admin"');
  });

  it('requires the service key in service mode and the encryption key in per-user mode', () => {
    expect(problems({ OPENPROJECT_URL: 'http://op:8080' }).map((p) => p.key)).toEqual(['OPENPROJECT_API_KEY']);
    expect(problems({ OPENPROJECT_URL: 'http://op:8080', OPENPROJECT_IDENTITY: 'per-user' }).map((p) => p.key)).toEqual(['OPENPROJECT_KEY_ENCRYPTION_KEY']);
    expect(loadConfig({ OPENPROJECT_URL: 'http://op:8080', OPENPROJECT_IDENTITY: 'per-user', OPENPROJECT_KEY_ENCRYPTION_KEY: ENC }, '/srv').openproject?.apiKey).toBeUndefined();
  });

  it('refuses secrets without OPENPROJECT_URL, and a key given both inline and as a file', () => {
    expect(problems({ OPENPROJECT_API_KEY: KEY }).map((p) => p.key)).toEqual(['OPENPROJECT_API_KEY']);
    expect(problems({ OPENPROJECT_URL: 'http://op:8080', OPENPROJECT_API_KEY: KEY, OPENPROJECT_API_KEY_FILE: '/run/secrets/op' }).map((p) => p.key)).toEqual(['OPENPROJECT_API_KEY_FILE']);
  });
});
