import { type DynamicModule, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { MemoryThrottlerStorage } from './memory-throttler.storage';
import { RateLimitGuard } from './rate-limit.guard';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/**
 * Rate limits of the MCP app ({@link RateLimitGuard}). Import it after the
 * auth module: global guards run in registration order, and the limits are
 * per principal, so authentication must have run.
 */
@Module({})
export class ThrottleModule {
  static forRoot(config: AppConfig): DynamicModule {
    const { requests, windowMs } = config.rateLimit;
    return {
      module: ThrottleModule,
      imports: [
        ThrottlerModule.forRootAsync({
          inject: [{ token: RedisService, optional: true }],
          useFactory: (redis?: RedisService) => ({
            // RATE_LIMIT_REQUESTS=0 turns the request limit off (per-tool limits still apply).
            throttlers: [{ name: 'default', ttl: windowMs, limit: requests || Number.MAX_SAFE_INTEGER, skipIf: () => requests === 0 }],
            // Counters in this process; in Redis with REDIS_URL, so a limit holds for the whole fleet.
            storage: config.redis ? new RedisThrottlerStorage(redis!) : new MemoryThrottlerStorage(),
          }),
        }),
      ],
      providers: [RateLimitGuard],
      exports: [RateLimitGuard],
    };
  }
}
