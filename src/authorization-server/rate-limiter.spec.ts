import { MemoryRateLimiter } from './rate-limiter';

describe('MemoryRateLimiter', () => {
  let now = 0;
  const limiter = () => new MemoryRateLimiter(() => now);
  const limit = { limit: 3, windowSeconds: 60 };
  beforeEach(() => (now = 1_000_000));

  it('allows `limit` hits per window per key, then says how long to wait, then allows again', () => {
    const l = limiter();
    expect([1, 2, 3].map(() => l.hit('register:1.2.3.4', limit).allowed)).toEqual([true, true, true]);
    now += 20_000;
    expect(l.hit('register:1.2.3.4', limit)).toEqual({ allowed: false, retryAfterSeconds: 40 });
    expect(l.hit('register:5.6.7.8', limit).allowed).toBe(true);
    now += 40_000;
    expect(l.hit('register:1.2.3.4', limit).allowed).toBe(true);
  });

  it('peeks without counting: whether one more hit would pass', () => {
    const l = limiter();
    expect(l.peek('login:ip', limit).allowed).toBe(true);
    l.hit('login:ip', limit);
    l.hit('login:ip', limit);
    expect(l.peek('login:ip', limit).allowed).toBe(true);
    l.hit('login:ip', limit);
    expect(l.peek('login:ip', limit)).toEqual({ allowed: false, retryAfterSeconds: 60 });
  });
});
