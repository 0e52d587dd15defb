import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { LOCKOUT_STORE } from './lockout-store.interface';
import { LockoutService } from './lockout.service';
import { MemoryLockoutStore } from './memory-lockout.store';
import { RedisLockoutStore } from './redis-lockout.store';

/**
 * The auth-failure lockout ({@link LockoutService}), its counters in memory
 * (per instance), or in Redis with REDIS_URL (shared by the fleet).
 * (Not @nestjs/throttler's storage: its one operation, `increment`, counts
 * as it checks, while the lockout must check before the credential is
 * verified, count only failures, and forget an account's count on success.)
 */
@Module({
  providers: [
    {
      provide: LOCKOUT_STORE,
      inject: [APP_CONFIG, { token: RedisService, optional: true }],
      useFactory: (config: AppConfig, redis?: RedisService) => (config.redis ? new RedisLockoutStore(redis!) : new MemoryLockoutStore()),
    },
    LockoutService,
  ],
  exports: [LockoutService],
})
export class LockoutModule {}
