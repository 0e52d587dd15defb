import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { RedisService } from '../redis/redis.service';
import type { LockoutLimits, LockoutState, LockoutStore } from './lockout-store.interface';
import { MemoryLockoutStore } from './memory-lockout.store';

/*
 * KEYS: the failure counter, the block marker. ARGV: limit, window ms, block
 * ms, the blocks channel, the key. A block that starts is announced on the
 * channel in the same step, so no instance can read "not blocked" after it
 * without hearing of it.
 */
const RECORD_FAILURE = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, blocked} end
local failures = redis.call('INCR', KEYS[1])
if failures == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if failures >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  return {0, tonumber(ARGV[3])}
end
return {failures, 0}`;

/** How long a "not blocked" answer is reused (pub/sub drops it at once when a block starts; this bounds it should a message be lost). */
const CLEAR_TTL_MS = 5_000;
/** Keys whose "not blocked" answer is kept (client IPs, accounts); past it the oldest go. */
const CLEAR_MAX = 10_000;

type Scripted = { porticoLockoutFailure(...args: (string | number)[]): Promise<[number, number]> };

/**
 * {@link LockoutStore} in Redis, so failures count across the fleet:
 * `l:<key>` counts failures in a window opened by the first, `lb:<key>`
 * marks the cool-down (its TTL is what is left). While Redis cannot be
 * reached, this instance counts on its own (a memory store), so a Redis
 * outage neither locks everyone out nor lets guessing run unchecked.
 *
 * Every request asks {@link blockedFor} its client IP, and almost always
 * hears "no": that answer is kept per key ({@link CLEAR_TTL_MS} at most) and
 * dropped the moment a cool-down starts anywhere in the fleet (announced on
 * `ch:lockout` by the script that starts it). It is kept only while pub/sub
 * is known to hear every announcement ({@link RedisService.pubSubEpoch});
 * otherwise each check asks Redis.
 */
export class RedisLockoutStore implements LockoutStore, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Lockout');
  private readonly fallback = new MemoryLockoutStore();
  private readonly redis: RedisService['client'] & Scripted;
  private readonly channel: string;
  private degraded = false;
  /** Keys known not blocked: until when, and the pub/sub epoch that answer relies on. */
  private readonly clear = new Map<string, { until: number; epoch: number }>();
  /** Bumped by every cool-down announced: an answer read across one is not kept. */
  private announced = 0;
  private listening = false;
  private stop?: () => Promise<void>;

  constructor(private readonly service: RedisService) {
    service.client.defineCommand('porticoLockoutFailure', { numberOfKeys: 2, lua: RECORD_FAILURE });
    this.redis = service.client as RedisService['client'] & Scripted;
    this.channel = service.key('ch', 'lockout');
  }

  async onModuleInit(): Promise<void> {
    this.stop = await this.service.subscribe(this.channel, (key) => this.blocked(key));
    this.listening = true;
  }

  blockedFor(key: string): Promise<number> {
    const epoch = this.listening ? this.service.pubSubEpoch : undefined;
    if (epoch !== undefined && this.service.available) {
      const known = this.clear.get(key);
      if (known && known.epoch === epoch && known.until > Date.now()) return Promise.resolve(0);
    }
    const announced = this.announced;
    return this.attempt(
      async () => {
        const ms = Math.max(0, await this.redis.pttl(this.service.key('lb', key)));
        if (ms === 0 && epoch !== undefined && announced === this.announced && epoch === this.service.pubSubEpoch) this.keepClear(key, epoch);
        return ms;
      },
      () => this.fallback.blockedFor(key),
    );
  }

  recordFailure(key: string, { limit, windowMs, blockMs }: LockoutLimits): Promise<LockoutState> {
    return this.attempt(
      async () => {
        const [failures, blockedMs] = await this.redis.porticoLockoutFailure(
          this.service.key('l', key),
          this.service.key('lb', key),
          limit,
          windowMs,
          blockMs,
          this.channel,
          key,
        );
        if (blockedMs > 0) this.blocked(key);
        return { failures, blockedMs };
      },
      () => this.fallback.recordFailure(key, { limit, windowMs, blockMs }),
    );
  }

  reset(key: string): Promise<void> {
    return this.attempt(
      async () => void (await this.redis.del(this.service.key('l', key))),
      () => this.fallback.reset(key),
    );
  }

  onModuleDestroy(): void {
    this.listening = false;
    void this.stop?.();
    this.fallback.onModuleDestroy();
  }

  /** A cool-down started for `key` (here or on another instance). */
  private blocked(key: string): void {
    this.announced++;
    this.clear.delete(key);
  }

  private keepClear(key: string, epoch: number): void {
    this.clear.delete(key);
    if (this.clear.size >= CLEAR_MAX) this.clear.delete(this.clear.keys().next().value!);
    this.clear.set(key, { until: Date.now() + CLEAR_TTL_MS, epoch });
  }

  private async attempt<T>(redis: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.service.available) {
      try {
        const result = await redis();
        if (this.degraded) {
          this.degraded = false;
          this.logger.log('Redis is back: auth failures are counted fleet-wide again');
        }
        return result;
      } catch (e) {
        this.degrade(e);
      }
    } else {
      this.degrade();
    }
    return local();
  }

  private degrade(e?: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn({ err: e ?? 'not connected' }, 'Redis unavailable: auth failures are counted per instance until it is back');
  }
}
