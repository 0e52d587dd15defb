import { MemoryLockoutStore } from './memory-lockout.store';

const LIMITS = { limit: 3, windowMs: 10_000, blockMs: 5_000 };

describe('MemoryLockoutStore', () => {
  let now: number;
  let store: MemoryLockoutStore;
  beforeEach(() => {
    now = 1_000_000;
    store = new MemoryLockoutStore(() => now);
  });
  afterEach(() => store.onModuleDestroy());

  it('blocks on the failure that reaches the limit, for blockMs, then lets the key through', async () => {
    expect(await store.recordFailure('account:user:alice', LIMITS)).toEqual({ failures: 1, blockedMs: 0 });
    expect(await store.recordFailure('account:user:alice', LIMITS)).toEqual({ failures: 2, blockedMs: 0 });
    expect(await store.blockedFor('account:user:alice')).toBe(0);

    expect(await store.recordFailure('account:user:alice', LIMITS)).toEqual({ failures: 0, blockedMs: 5_000 });
    now += 4_000;
    expect(await store.blockedFor('account:user:alice')).toBe(1_000);
    expect(await store.blockedFor('account:user:bob')).toBe(0);

    now += 1_000;
    expect(await store.blockedFor('account:user:alice')).toBe(0);
    expect(await store.recordFailure('account:user:alice', LIMITS)).toEqual({ failures: 1, blockedMs: 0 });
  });

  it('does not count failures during a cool-down (they do not prolong it)', async () => {
    for (let i = 0; i < 3; i++) await store.recordFailure('ip:203.0.113.7', LIMITS);
    now += 1_000;

    expect(await store.recordFailure('ip:203.0.113.7', LIMITS)).toEqual({ failures: 0, blockedMs: 4_000 });
    now += 4_000;
    expect(await store.blockedFor('ip:203.0.113.7')).toBe(0);
  });

  it('forgets failures older than the window', async () => {
    await store.recordFailure('account:user:alice', LIMITS);
    await store.recordFailure('account:user:alice', LIMITS);
    now += 10_000;

    expect(await store.recordFailure('account:user:alice', LIMITS)).toEqual({ failures: 1, blockedMs: 0 });
  });

  it('reset clears the count but never a running cool-down', async () => {
    await store.recordFailure('account:user:alice', LIMITS);
    await store.recordFailure('account:user:alice', LIMITS);
    await store.reset('account:user:alice');
    expect(await store.recordFailure('account:user:alice', LIMITS)).toEqual({ failures: 1, blockedMs: 0 });

    await store.recordFailure('account:user:alice', LIMITS);
    await store.recordFailure('account:user:alice', LIMITS);
    await store.reset('account:user:alice');
    expect(await store.blockedFor('account:user:alice')).toBe(5_000);
  });

  it('sweeps keys whose window and cool-down are over', async () => {
    jest.useFakeTimers({ now });
    const swept = new MemoryLockoutStore(() => now);
    try {
      await swept.recordFailure('ip:198.51.100.1', LIMITS);
      for (let i = 0; i < 3; i++) await swept.recordFailure('ip:198.51.100.2', { ...LIMITS, blockMs: 120_000 });
      expect(swept.size).toBe(2);

      now += 60_000;
      jest.advanceTimersByTime(60_000);

      expect(swept.size).toBe(1);
      expect(await swept.blockedFor('ip:198.51.100.2')).toBe(60_000);
    } finally {
      swept.onModuleDestroy();
      jest.useRealTimers();
    }
  });
});
