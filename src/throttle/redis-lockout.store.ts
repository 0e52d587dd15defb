import { Logger, type OnModuleDestroy } from '@nestjs/common';
import type { RedisService } from '../redis/redis.service';
import type { LockoutLimits, LockoutState, LockoutStore } from './lockout-store.interface';
import { MemoryLockoutStore } from './memory-lockout.store';

/* KEYS: the failure counter, the block marker. ARGV: limit, window ms, block ms. */
const RECORD_FAILURE = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, blocked} end
local failures = redis.call('INCR', KEYS[1])
if failures == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if failures >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {0, tonumber(ARGV[3])}
end
return {failures, 0}`;

type Scripted = { porticoLockoutFailure(...args: (string | number)[]): Promise<[number, number]> };

/**
 * {@link LockoutStore} in Redis, so failures count across the fleet:
 * `l:<key>` counts failures in a window opened by the first, `lb:<key>`
 * marks the cool-down (its TTL is what is left). While Redis cannot be
 * reached, this instance counts on its own (a memory store), so a Redis
 * outage neither locks everyone out nor lets guessing run unchecked.
 */
export class RedisLockoutStore implements LockoutStore, OnModuleDestroy {
  private readonly logger = new Logger('Lockout');
  private readonly fallback = new MemoryLockoutStore();
  private readonly redis: RedisService['client'] & Scripted;
  private degraded = false;

  constructor(private readonly service: RedisService) {
    service.client.defineCommand('porticoLockoutFailure', { numberOfKeys: 2, lua: RECORD_FAILURE });
    this.redis = service.client as RedisService['client'] & Scripted;
  }

  blockedFor(key: string): Promise<number> {
    return this.attempt(
      async () => Math.max(0, await this.redis.pttl(this.service.key('lb', key))),
      () => this.fallback.blockedFor(key),
    );
  }

  recordFailure(key: string, { limit, windowMs, blockMs }: LockoutLimits): Promise<LockoutState> {
    return this.attempt(
      async () => {
        const [failures, blockedMs] = await this.redis.porticoLockoutFailure(this.service.key('l', key), this.service.key('lb', key), limit, windowMs, blockMs);
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
    this.fallback.onModuleDestroy();
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
