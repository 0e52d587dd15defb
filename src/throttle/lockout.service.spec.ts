import { loadConfig } from '../config/app-config';
import { LockoutService } from './lockout.service';
import { MemoryLockoutStore } from './memory-lockout.store';

describe('LockoutService', () => {
  let now: number;
  let store: MemoryLockoutStore;
  let lockout: LockoutService;
  beforeEach(() => {
    now = 5_000_000;
    store = new MemoryLockoutStore(() => now);
    lockout = new LockoutService(store, loadConfig({ AUTH_MAX_FAILURES: '3', AUTH_MAX_FAILURES_PER_IP: '5', AUTH_LOCKOUT_SECONDS: '60' }, '/'));
  });
  afterEach(() => store.onModuleDestroy());

  const fail = (ip: string, account?: string) => lockout.failed(lockout.subjects(ip, account));

  it('locks an account on its AUTH_MAX_FAILURES-th failure, from any IP, for AUTH_LOCKOUT_SECONDS', async () => {
    expect(await fail('198.51.100.1', 'user:alice')).toBeUndefined();
    expect(await fail('198.51.100.2', 'user:alice')).toBeUndefined();

    expect(await fail('198.51.100.3', 'user:alice')).toEqual({ subject: { scope: 'account', id: 'user:alice' }, retryAfterSeconds: 60 });
    expect(await lockout.blocked(lockout.subjects('192.0.2.99', 'user:alice'))).toMatchObject({ subject: { scope: 'account' } });
    expect(await lockout.blocked(lockout.subjects('192.0.2.99', 'user:bob'))).toBeUndefined();

    now += 59_001;
    expect(await lockout.blocked(lockout.subjects('192.0.2.99', 'user:alice'))).toEqual({
      subject: { scope: 'account', id: 'user:alice' },
      retryAfterSeconds: 1,
    });
    now += 1_000;
    expect(await lockout.blocked(lockout.subjects('192.0.2.99', 'user:alice'))).toBeUndefined();
  });

  it('locks an IP on its AUTH_MAX_FAILURES_PER_IP-th failure, whatever the accounts', async () => {
    for (const account of ['user:a', 'user:b', 'user:c', undefined]) expect(await fail('203.0.113.7', account)).toBeUndefined();

    expect(await fail('203.0.113.7')).toEqual({ subject: { scope: 'ip', id: '203.0.113.7' }, retryAfterSeconds: 60 });
    expect(await lockout.blocked(lockout.subjects('203.0.113.7', 'user:d'))).toMatchObject({ subject: { scope: 'ip' } });
    expect(await lockout.blocked(lockout.subjects('203.0.113.8', 'user:d'))).toBeUndefined();
  });

  it('forgets an account\'s failures on success, but not its IP\'s', async () => {
    await fail('203.0.113.7', 'user:alice');
    await fail('203.0.113.7', 'user:alice');
    await lockout.succeeded('user:alice');

    expect(await fail('203.0.113.7', 'user:alice')).toBeUndefined();
    expect(await fail('203.0.113.7', 'user:alice')).toBeUndefined();
    // The IP has five failures now: one good account does not launder them.
    expect(await fail('203.0.113.7', 'user:bob')).toMatchObject({ subject: { scope: 'ip' } });
  });

  it('counts a request without a known address under "unknown"', () => {
    expect(lockout.subjects(undefined)).toEqual([{ scope: 'ip', id: 'unknown' }]);
  });
});
