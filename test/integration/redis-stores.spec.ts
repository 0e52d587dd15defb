import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import Redis from 'ioredis';
import { loadConfig } from '../../src/config/app-config';
import { ReadinessRegistry } from '../../src/health/readiness.registry';
import { RedisService } from '../../src/redis/redis.service';
import { RedisEventStore, sessionChannel } from '../../src/session/redis-event.store';
import { RedisSessionStore } from '../../src/session/redis-session.store';
import { RedisLockoutStore } from '../../src/throttle/redis-lockout.store';
import { RedisThrottlerStorage } from '../../src/throttle/redis-throttler.storage';
import { dropRedisPrefix, REDIS_URL, testRedisPrefix } from '../support/redis';

const MINUTE = 60_000;
const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Redis implementations against the real Redis, each run under its own key prefix. */
describe('Redis stores', () => {
  const prefix = testRedisPrefix('stores');
  let redis: RedisService;
  let raw: Redis;

  beforeAll(async () => {
    redis = new RedisService(loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, INSTANCE_ID: 'itest' }, '/'), new ReadinessRegistry());
    await redis.onModuleInit();
    raw = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await redis.onApplicationShutdown();
    raw.disconnect();
    await dropRedisPrefix(prefix);
  });

  describe('RedisSessionStore', () => {
    const store = () => new RedisSessionStore(redis, { idleTtlMs: 30 * MINUTE, maxAgeMs: 120 * MINUTE, maxPerPrincipal: 3 });
    const record = (id: string, principalId = 'token:alice', createdAt = Date.now()) => ({
      id,
      principalId,
      createdAt,
      lastSeenAt: createdAt,
      clientName: 'c',
      protocolVersion: '2025-11-25',
      initialize: { protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name: 'c', version: '1' } },
      scopes: ['*'],
    });

    it('keeps the whole record, handshake included, and slides the idle TTL on touch only', async () => {
      const s = store();
      await s.create(record('s1'));
      expect(await s.get('s1')).toEqual(record('s1', 'token:alice', (await s.get('s1'))!.createdAt));
      await raw.pexpire(`${prefix}s:s1`, 1000);
      await s.get('s1');
      expect(await raw.pttl(`${prefix}s:s1`)).toBeLessThanOrEqual(1000);
      const touched = await s.touch('s1');
      expect(touched?.initialize).toMatchObject({ capabilities: { elicitation: {} } });
      expect(await raw.pttl(`${prefix}s:s1`)).toBeGreaterThan(29 * MINUTE);
      expect(await s.get('unknown')).toBeUndefined();
      expect(await s.touch('unknown')).toBeUndefined();
    });

    it('ends a session at its absolute TTL even when it is kept busy', async () => {
      const s = new RedisSessionStore(redis, { idleTtlMs: 30 * MINUTE, maxAgeMs: 120 * MINUTE, maxPerPrincipal: 3 });
      await s.create(record('old', 'token:carol', Date.now() - 120 * MINUTE - 1));
      expect(await s.touch('old')).toBeUndefined();
      expect(await s.get('old')).toBeUndefined();
    });

    it('evicts the oldest session of a principal over the cap, fleet-wide', async () => {
      const s = store();
      const now = Date.now();
      for (let i = 1; i <= 3; i++) expect(await s.create(record(`b${i}`, 'token:bob', now + i))).toEqual([]);
      expect(await s.create(record('b4', 'token:bob', now + 4))).toEqual(['b1']);
      expect(await s.get('b1')).toBeUndefined();
      for (const id of ['b2', 'b3', 'b4']) expect(await s.get(id)).toBeDefined();
      // A session deleted (or expired) frees its slot.
      expect(await s.delete('b2')).toBe(true);
      expect(await s.delete('b2')).toBe(false);
      expect(await s.create(record('b5', 'token:bob', now + 5))).toEqual([]);
    });

    it('over the cap, evicts the session idle the longest (touch renews its place)', async () => {
      const s = store();
      const now = Date.now();
      for (let i = 1; i <= 3; i++) await s.create(record(`e${i}`, 'token:erin', now - 100 + i));
      await s.touch('e1'); // the oldest, but used just now
      expect(await s.create(record('e4', 'token:erin', now + 1))).toEqual(['e2']);
      for (const id of ['e1', 'e3', 'e4']) expect(await s.get(id)).toBeDefined();
    });

    it('updates log level and scopes; counts live sessions; lists their ids', async () => {
      const s = store();
      await s.create(record('u1', 'token:dave'));
      await s.update('u1', { logLevel: 'warning', scopes: ['tools:read'] });
      expect(await s.get('u1')).toMatchObject({ logLevel: 'warning', scopes: ['tools:read'] });
      await s.update('gone', { logLevel: 'debug' });
      expect(await s.get('gone')).toBeUndefined();
      expect(await s.ids()).toContain('u1');
      expect(await s.count()).toBeGreaterThanOrEqual(1);
    });

    it('hands each expired session to exactly one claimer', async () => {
      const s = new RedisSessionStore(redis, { idleTtlMs: 100, maxAgeMs: MINUTE, maxPerPrincipal: 3 });
      await s.create(record('e1', 'token:erin'));
      await sleep(250);
      const claims = await Promise.all([s.claimExpired(), s.claimExpired(), store().claimExpired()]);
      expect(claims.flat().filter((id) => id === 'e1')).toHaveLength(1);
    });

    it('keeps resource subscriptions by session and by URI, and forgets them with the session', async () => {
      const s = store();
      await s.create(record('r1', 'token:fay'));
      await s.create(record('r2', 'token:fay'));
      await s.subscribe('r1', 'test://a');
      await s.subscribe('r2', 'test://a');
      expect((await s.subscribers('test://a')).sort()).toEqual(['r1', 'r2']);
      await s.unsubscribe('r2', 'test://a');
      await s.delete('r1');
      expect(await s.subscribers('test://a')).toEqual([]);
    });
  });

  describe('RedisEventStore', () => {
    const store = (max = 100) => new RedisEventStore(redis, max, MINUTE);
    const replay = async (s: RedisEventStore, sessionId: string, lastEventId: string) => {
      const sent: [string, number][] = [];
      const streamId = await s.replayEventsAfter(sessionId, lastEventId, async (id, m) => void sent.push([id, (m as unknown as { params: { n: number } }).params.n]));
      return { streamId, sent };
    };

    it('replays only later events of the same stream, in order, with ids naming their stream', async () => {
      const s = store();
      const first = await s.storeEvent('x1', 'stream-a', note(1));
      await s.storeEvent('x1', 'stream-b', note(2));
      const third = await s.storeEvent('x1', 'stream-a', note(3));
      expect(first).toMatch(/^stream-a\/\d+-\d+$/);
      expect(s.streamIdOf(third)).toBe('stream-a');
      expect(s.streamIdOf('nonsense')).toBeUndefined();
      const { streamId, sent } = await replay(s, 'x1', first);
      expect(streamId).toBe('stream-a');
      expect(sent).toEqual([[third, 3]]);
    });

    it("never replays one session's _GET_stream to another", async () => {
      const s = store();
      const a = await s.storeEvent('x2', '_GET_stream', note(1));
      await s.storeEvent('x2', '_GET_stream', note(2));
      // Event ids are per-session Redis stream ids (time based): a later millisecond for x3's event.
      await new Promise((r) => setTimeout(r, 5));
      await s.storeEvent('x3', '_GET_stream', note(100));
      expect((await replay(s, 'x3', a)).sent.map(([, n]) => n)).toEqual([100]);
      expect((await replay(s, 'x2', a)).sent.map(([, n]) => n)).toEqual([2]);
    });

    it('skips priming events, caps each session at maxEvents, rejects foreign ids, forgets a deleted session', async () => {
      const s = store(3);
      const priming = await s.storeEvent('x4', 'post', {} as JSONRPCMessage);
      for (let n = 1; n <= 5; n++) await s.storeEvent('x4', 'post', note(n));
      expect((await replay(s, 'x4', priming)).sent.map(([, n]) => n)).toEqual([3, 4, 5]);
      await expect(replay(s, 'x4', 'post/12')).rejects.toThrow('Invalid Last-Event-ID');
      expect(await raw.pttl(`${prefix}e:x4`)).toBeGreaterThan(MINUTE - 5000);
      await s.deleteSession('x4');
      expect((await replay(s, 'x4', priming)).sent).toEqual([]);
      expect(await s.latest('x4')).toBe('0-0');
    });

    it("rings the session's doorbell for _GET_stream events only", async () => {
      const s = store();
      const rung: string[] = [];
      const stop = await redis.subscribe(sessionChannel(redis, 'x5'), (m) => void rung.push(m));
      await s.storeEvent('x5', 'post', note(1));
      await s.storeEvent('x5', '_GET_stream', note(2));
      for (let i = 0; i < 50 && rung.length < 1; i++) await sleep(10);
      await stop();
      expect(rung).toEqual([JSON.stringify({ t: 'event' })]);
    });
  });

  describe('RedisThrottlerStorage', () => {
    it('counts hits of every instance in one window, blocks past the limit, then counts afresh', async () => {
      const [one, two] = [new RedisThrottlerStorage(redis), new RedisThrottlerStorage(redis)];
      const hit = (s: RedisThrottlerStorage) => s.increment('default:principal:token:alice', 600, 3, 600, 'default');
      expect(await hit(one)).toMatchObject({ totalHits: 1, isBlocked: false });
      expect(await hit(two)).toMatchObject({ totalHits: 2, isBlocked: false });
      expect(await hit(one)).toMatchObject({ totalHits: 3, isBlocked: false });
      expect(await hit(two)).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
      expect(await hit(one)).toMatchObject({ isBlocked: true });
      await sleep(700);
      expect(await hit(two)).toMatchObject({ totalHits: 1, isBlocked: false });
      one.onApplicationShutdown();
      two.onApplicationShutdown();
    });
  });

  describe('RedisLockoutStore', () => {
    const LIMITS = { limit: 3, windowMs: 1000, blockMs: 500 };

    it('blocks on the failure that reaches the limit, whichever instance counted the others', async () => {
      const [one, two] = [new RedisLockoutStore(redis), new RedisLockoutStore(redis)];
      expect(await one.recordFailure('account:user:mallory', LIMITS)).toEqual({ failures: 1, blockedMs: 0 });
      expect(await two.recordFailure('account:user:mallory', LIMITS)).toEqual({ failures: 2, blockedMs: 0 });
      expect(await one.recordFailure('account:user:mallory', LIMITS)).toEqual({ failures: 0, blockedMs: 500 });
      expect(await two.blockedFor('account:user:mallory')).toBeGreaterThan(300);
      expect(await two.recordFailure('account:user:mallory', LIMITS)).toMatchObject({ failures: 0 });
      await two.reset('account:user:mallory');
      expect(await one.blockedFor('account:user:mallory')).toBeGreaterThan(0);
      await sleep(550);
      expect(await one.blockedFor('account:user:mallory')).toBe(0);
      expect(await two.recordFailure('account:user:mallory', LIMITS)).toEqual({ failures: 1, blockedMs: 0 });
      await one.reset('account:user:mallory');
      expect(await two.recordFailure('account:user:mallory', LIMITS)).toEqual({ failures: 1, blockedMs: 0 });
      one.onModuleDestroy();
      two.onModuleDestroy();
    });

    it('keeps a "not blocked" answer only until a cool-down starts, on whichever instance', async () => {
      const [one, two] = [new RedisLockoutStore(redis), new RedisLockoutStore(redis)];
      await Promise.all([one.onModuleInit(), two.onModuleInit()]);
      const key = 'ip:198.51.100.23';
      expect(await two.blockedFor(key)).toBe(0);
      // Kept: Redis is not asked again (a block set behind the stores' back is not seen)...
      await raw.set(`${prefix}lb:${key}`, '1', 'PX', 2_000);
      expect(await two.blockedFor(key)).toBe(0);
      await raw.del(`${prefix}lb:${key}`);
      // ...but a cool-down started by any instance is, at once.
      for (let i = 0; i < LIMITS.limit; i++) await one.recordFailure(key, LIMITS);
      const deadline = Date.now() + 1_000;
      while ((await two.blockedFor(key)) === 0 && Date.now() < deadline) await sleep(5);
      expect(await two.blockedFor(key)).toBeGreaterThan(300);
      expect(await one.blockedFor(key)).toBeGreaterThan(300);
      one.onModuleDestroy();
      two.onModuleDestroy();
    });
  });
});

describe('Redis stores while Redis cannot be reached', () => {
  let redis: RedisService;

  beforeAll(async () => {
    redis = new RedisService(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: testRedisPrefix('down'), INSTANCE_ID: 'down' }, '/'), new ReadinessRegistry());
    await redis.onModuleInit();
  });

  afterAll(() => redis.onApplicationShutdown());

  it('limits and lockout fall back to this instance instead of failing requests', async () => {
    const throttler = new RedisThrottlerStorage(redis);
    const lockout = new RedisLockoutStore(redis);
    expect(await throttler.increment('k', 60_000, 1, 60_000, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await throttler.increment('k', 60_000, 1, 60_000, 'default')).toMatchObject({ isBlocked: true });
    expect(await lockout.recordFailure('ip:203.0.113.9', { limit: 1, windowMs: 1000, blockMs: 1000 })).toMatchObject({ blockedMs: 1000 });
    expect(await lockout.blockedFor('ip:203.0.113.9')).toBeGreaterThan(0);
    throttler.onApplicationShutdown();
    lockout.onModuleDestroy();
  });

  it('session commands fail at once (no waiting for Redis to come back)', async () => {
    const store = new RedisSessionStore(redis, { idleTtlMs: MINUTE, maxAgeMs: MINUTE, maxPerPrincipal: 1 });
    const started = Date.now();
    await expect(store.touch('s')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(500);
  });
});
