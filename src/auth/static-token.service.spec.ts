import { Logger } from '@nestjs/common';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/app-config';
import { StaticTokenService } from './static-token.service';

const CI = 'ci-token-0123456789abcdef';
const OPS = 'ops-token-0123456789abcdef';

describe('StaticTokenService', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'portico-auth-'));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('with configured tokens', () => {
    let service: StaticTokenService;
    beforeEach(() => {
      service = new StaticTokenService(loadConfig({ DATA_DIR: dataDir, AUTH_TOKENS: `ci:${CI},ops:${OPS}` }));
    });

    it('returns the principal of the matching token with every scope', () => {
      expect(service.verify(CI)).toEqual({
        id: 'token:ci',
        kind: 'service',
        displayName: 'ci',
        scopes: ['*'],
        authMethod: 'bearer',
      });
      expect(service.verify(OPS)?.id).toBe('token:ops');
    });

    it.each([
      ['a wrong token', 'ci-token-0123456789abcdeX'],
      ['a prefix of a right one', CI.slice(0, -1)],
      ['a right one with extra characters', `${CI}0`],
      ['the empty string', ''],
      ['the token name', 'ci'],
    ])('rejects %s', (_, presented) => {
      expect(service.verify(presented)).toBeUndefined();
    });

    it('neither creates nor reports a generated token', () => {
      expect(service.generated).toBeUndefined();
      expect(existsSync(join(dataDir, 'auth-token'))).toBe(false);
    });
  });

  describe('without configured tokens', () => {
    it('generates a token on first start, stores it with mode 0600, and accepts it', () => {
      const service = new StaticTokenService(loadConfig({ DATA_DIR: dataDir }));

      const file = join(dataDir, 'auth-token');
      expect(service.tokenFile).toBe(file);
      expect(service.generated).toMatch(/^ptc_[A-Za-z0-9_-]{43}$/);
      expect(readFileSync(file, 'utf8').trim()).toBe(service.generated);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(service.verify(service.generated!)?.id).toBe('token:bootstrap');
    });

    it('creates a missing DATA_DIR', () => {
      const nested = join(dataDir, 'nested', 'state');

      const service = new StaticTokenService(loadConfig({ DATA_DIR: nested }));

      expect(readFileSync(join(nested, 'auth-token'), 'utf8').trim()).toBe(service.generated);
    });

    it('reuses the stored token on the next start without reporting it as generated', () => {
      const first = new StaticTokenService(loadConfig({ DATA_DIR: dataDir }));

      const second = new StaticTokenService(loadConfig({ DATA_DIR: dataDir }));

      expect(second.generated).toBeUndefined();
      expect(second.verify(first.generated!)?.id).toBe('token:bootstrap');
      expect(readFileSync(join(dataDir, 'auth-token'), 'utf8').trim()).toBe(first.generated);
    });

    it('replaces a stored token too short to use', () => {
      writeFileSync(join(dataDir, 'auth-token'), 'short\n');

      const service = new StaticTokenService(loadConfig({ DATA_DIR: dataDir }));

      expect(service.generated).toBeDefined();
      expect(service.verify('short')).toBeUndefined();
      expect(statSync(join(dataDir, 'auth-token')).mode & 0o777).toBe(0o600);
    });

    it('creates no file and accepts no token when AUTH_DISABLED', () => {
      const service = new StaticTokenService(loadConfig({ DATA_DIR: dataDir, AUTH_DISABLED: 'true' }));

      expect(existsSync(join(dataDir, 'auth-token'))).toBe(false);
      expect(service.generated).toBeUndefined();
      expect(service.verify('')).toBeUndefined();
    });
  });
});
