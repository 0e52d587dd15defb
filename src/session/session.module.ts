import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EVENT_STORE } from './event-store.interface';
import { MemoryEventStore } from './memory-event.store';
import { MemorySessionStore } from './memory-session.store';
import { SESSION_STORE } from './session-store.interface';

/** The session and event stores (memory; Redis implementations plug in behind the same tokens). */
@Global()
@Module({
  providers: [
    {
      provide: SESSION_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new MemorySessionStore(config.sessions),
    },
    {
      provide: EVENT_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new MemoryEventStore(config.sessions.maxEvents),
    },
  ],
  exports: [SESSION_STORE, EVENT_STORE],
})
export class SessionModule {}
