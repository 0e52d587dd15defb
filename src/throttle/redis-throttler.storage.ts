import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { RedisService } from '../redis/redis.service';
import { MemoryThrottlerStorage } from './memory-throttler.storage';

/*
 * KEYS: the hit counter, the block marker. ARGV: ttl ms, limit, block ms.
 * A fixed window per key: the first hit starts it; the hit past the limit
 * blocks the key for the block duration and starts counting afresh after it.
 */
const INCREMENT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0') + 1, math.max(redis.call('PTTL', KEYS[1]), 0), 1, blocked}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) and tonumber(ARGV[3]) > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, hits > tonumber(ARGV[2]) and 1 or 0, 0}`;

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;
type Scripted = { porticoThrottle(...args: (string | number)[]): Promise<[number, number, number, number]> };

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * @nestjs/throttler storage in Redis, so a limit counts every instance's
 * requests (a fixed window per key, one round trip per hit). While Redis
 * cannot be reached, hits are counted in this process instead (the limit
 * then holds per instance) rather than refusing or failing requests.
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly fallback = new MemoryThrottlerStorage();
  private readonly redis: RedisService['client'] & Scripted;
  private degraded = false;

  constructor(private readonly service: RedisService) {
    service.client.defineCommand('porticoThrottle', { numberOfKeys: 2, lua: INCREMENT });
    this.redis = service.client as RedisService['client'] & Scripted;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (this.service.available) {
      try {
        const [totalHits, ttlLeft, blocked, blockLeft] = await this.redis.porticoThrottle(
          this.service.key('t', key),
          this.service.key('tb', key),
          ttl,
          limit,
          blockDuration,
        );
        this.recovered();
        return { totalHits, timeToExpire: seconds(ttlLeft), isBlocked: blocked === 1, timeToBlockExpire: seconds(blockLeft) };
      } catch (e) {
        this.degrade(e);
      }
    } else {
      this.degrade();
    }
    return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  onApplicationShutdown(): void {
    this.fallback.onApplicationShutdown();
  }

  private degrade(e?: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn({ err: e ?? 'not connected' }, 'Redis unavailable: rate limits are counted per instance until it is back');
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.log('Redis is back: rate limits are counted fleet-wide again');
  }
}
