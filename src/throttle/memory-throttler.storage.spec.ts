import { MemoryThrottlerStorage } from './memory-throttler.storage';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MemoryThrottlerStorage', () => {
  let storage: MemoryThrottlerStorage;
  beforeEach(() => (storage = new MemoryThrottlerStorage()));
  afterEach(() => storage.onApplicationShutdown());

  it('counts hits in one window, blocks past the limit, then counts afresh (as the Redis storage does)', async () => {
    const hit = () => storage.increment('default:principal:token:alice', 600, 3, 600, 'default');
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false, timeToExpire: 1 });
    expect(await hit()).toMatchObject({ totalHits: 2, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 4, isBlocked: true, timeToBlockExpire: 1 });
    expect(await hit()).toMatchObject({ isBlocked: true });
    await sleep(700);
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps keys apart and starts a new window when the last one ended', async () => {
    expect(await storage.increment('a', 300, 10, 300, 'default')).toMatchObject({ totalHits: 1 });
    expect(await storage.increment('b', 300, 10, 300, 'default')).toMatchObject({ totalHits: 1 });
    expect(await storage.increment('a', 300, 10, 300, 'default')).toMatchObject({ totalHits: 2 });
    await sleep(350);
    expect(await storage.increment('a', 300, 10, 300, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('without a block duration, reports hits over the limit without blocking the key', async () => {
    for (let i = 0; i < 2; i++) await storage.increment('c', 1000, 2, 0, 'default');
    expect(await storage.increment('c', 1000, 2, 0, 'default')).toEqual({ totalHits: 3, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 0 });
  });
});
