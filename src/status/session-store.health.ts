import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { SESSION_STORE, type SessionStore } from '../session/session-store.interface';

/** Up when the session store answers within `timeoutMs`; reports the number of live sessions. */
@Injectable()
export class SessionStoreHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(SESSION_STORE) private readonly store: SessionStore,
  ) {}

  check(key: string, timeoutMs: number) {
    return this.health
      .check(key)
      .attempt(async () => {
        await this.store.ping();
        return { sessions: await this.store.count() };
      })
      .withTimeout(timeoutMs);
  }
}
