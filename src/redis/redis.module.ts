import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { RedisService } from './redis.service';

/** The shared Redis connection ({@link RedisService}) when REDIS_URL is set; nothing otherwise. Global. */
@Global()
@Module({})
export class RedisModule {
  static forRoot(config: AppConfig): DynamicModule {
    const providers = config.redis ? [RedisService] : [];
    return { module: RedisModule, providers, exports: providers };
  }
}
