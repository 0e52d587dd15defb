import type { Principal } from '@portico/mcp-core';
import { Logger } from '@nestjs/common';
import type { AuditService } from '../audit/audit.service';
import type { AuditEventInput } from '../audit/audit-event.input';
import { loadConfig } from '../config/app-config';
import { LockoutService } from '../throttle/lockout.service';
import { MemoryLockoutStore } from '../throttle/memory-lockout.store';
import { AuthAttemptsService } from './auth-attempts.service';

const ALICE: Principal = { id: 'user:alice', kind: 'user', displayName: 'alice', scopes: [], authMethod: 'basic' };
const KEY: Principal = { id: 'key:ptk_1a2b3c4d', kind: 'service', displayName: 'ci', scopes: [], authMethod: 'api_key' };

describe('AuthAttemptsService', () => {
  let store: MemoryLockoutStore;
  let events: AuditEventInput[];
  let attempts: AuthAttemptsService;
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    store = new MemoryLockoutStore();
    events = [];
    const audit = { record: (e: AuditEventInput) => events.push(e) } as unknown as AuditService;
    const config = loadConfig({ AUTH_MAX_FAILURES: '2', AUTH_MAX_FAILURES_PER_IP: '4', AUTH_LOCKOUT_SECONDS: '30' }, '/');
    attempts = new AuthAttemptsService(new LockoutService(store, config), audit);
  });
  afterEach(() => {
    store.onModuleDestroy();
    jest.restoreAllMocks();
  });

  it('audits every failure with method, account and reason, and the cool-down it started', async () => {
    const basic = { method: 'basic' as const, account: 'user:alice' };
    expect(await attempts.failed('198.51.100.1', basic, 'bad_password')).toBeUndefined();
    expect(await attempts.failed('198.51.100.1', basic, 'bad_password')).toMatchObject({ retryAfterSeconds: 30 });

    expect(events).toEqual([
      expect.objectContaining({ kind: 'auth_failure', outcome: 'denied', authMethod: 'basic', errorCode: 'bad_password', detail: { account: 'user:alice', reason: 'bad_password' } }),
      expect.objectContaining({
        kind: 'auth_failure',
        errorCode: 'bad_password',
        detail: { account: 'user:alice', reason: 'bad_password', lockout: { scope: 'account', subject: 'user:alice', retryAfterSeconds: 30 } },
      }),
    ]);
  });

  it('refuses during a cool-down and audits only the first refusal of it', async () => {
    const basic = { method: 'basic' as const, account: 'user:alice' };
    await attempts.failed('198.51.100.1', basic, 'bad_password');
    await attempts.failed('198.51.100.1', basic, 'bad_password');
    events.length = 0;

    expect(await attempts.refusal('198.51.100.2', basic)).toMatchObject({ subject: { scope: 'account', id: 'user:alice' } });
    expect(await attempts.refusal('198.51.100.3', basic)).toBeDefined();
    expect(await attempts.refusal('198.51.100.3', { method: 'basic', account: 'user:bob' })).toBeUndefined();

    expect(events).toEqual([expect.objectContaining({ kind: 'auth_failure', outcome: 'locked', errorCode: 'locked_out' })]);
  });

  it('locks password accounts, never API keys by prefix (only their IP counts)', async () => {
    const key = { method: 'api_key' as const, account: 'key:ptk_1a2b3c4d' };
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) expect(await attempts.failed(ip, key, 'bad_secret')).toBeUndefined();

    expect(await attempts.refusal('198.51.100.9', key)).toBeUndefined();
  });

  it('audits a success once per principal and client IP in the sampling interval', async () => {
    for (let i = 0; i < 3; i++) await attempts.succeeded('198.51.100.1', { method: 'basic', account: 'user:alice' }, ALICE);
    await attempts.succeeded('198.51.100.2', { method: 'basic', account: 'user:alice' }, ALICE);
    await attempts.succeeded('198.51.100.1', { method: 'api_key', account: KEY.id }, KEY);

    expect(events.map((e) => [e.kind, e.principalId])).toEqual([
      ['auth_success', 'user:alice'],
      ['auth_success', 'user:alice'],
      ['auth_success', 'key:ptk_1a2b3c4d'],
    ]);
    expect(events[0]).toMatchObject({ outcome: 'ok', authMethod: 'basic', detail: { account: 'user:alice', sampledEverySeconds: 600 } });
  });

  it('clears the failures of a user who then signs in', async () => {
    const basic = { method: 'basic' as const, account: 'user:alice' };
    await attempts.failed('198.51.100.1', basic, 'bad_password');
    await attempts.succeeded('198.51.100.1', basic, ALICE);

    expect(await attempts.failed('198.51.100.1', basic, 'bad_password')).toBeUndefined();
  });
});
