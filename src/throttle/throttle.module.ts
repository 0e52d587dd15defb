import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, ThrottlerStorageService } from '@nestjs/throttler';
import type { AppConfig } from '../config/app-config';
import { RateLimitGuard } from './rate-limit.guard';

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
        ThrottlerModule.forRoot({
          // RATE_LIMIT_REQUESTS=0 turns the request limit off (per-tool limits still apply).
          throttlers: [{ name: 'default', ttl: windowMs, limit: requests || Number.MAX_SAFE_INTEGER, skipIf: () => requests === 0 }],
          // Counters in this process. Scale-out (REDIS_URL) swaps in a Redis storage behind the same ThrottlerStorage token.
          storage: new ThrottlerStorageService(),
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}
