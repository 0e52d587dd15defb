import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { EVENT_STORE } from './event-store.interface';
import { MemoryEventStore } from './memory-event.store';
import { MemorySessionStore } from './memory-session.store';
import { RedisEventStore } from './redis-event.store';
import { RedisSessionStore } from './redis-session.store';
import { SESSION_STORE } from './session-store.interface';

/** The session and event stores: in memory, or in Redis when REDIS_URL is set (shared by a fleet). */
@Global()
@Module({
  providers: [
    {
      provide: SESSION_STORE,
      inject: [APP_CONFIG, { token: RedisService, optional: true }],
      useFactory: (config: AppConfig, redis?: RedisService) =>
        config.redis ? new RedisSessionStore(redis!, config.sessions) : new MemorySessionStore(config.sessions),
    },
    {
      provide: EVENT_STORE,
      inject: [APP_CONFIG, { token: RedisService, optional: true }],
      useFactory: (config: AppConfig, redis?: RedisService) =>
        config.redis
          ? new RedisEventStore(redis!, config.sessions.maxEvents, config.sessions.idleTtlMs)
          : new MemoryEventStore(config.sessions.maxEvents),
    },
  ],
  exports: [SESSION_STORE, EVENT_STORE],
})
export class SessionModule {}
