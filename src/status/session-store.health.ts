import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { SESSION_STORE, type SessionStore } from '../session/session-store.interface';

/** Up when the session store answers; reports the number of live sessions. */
@Injectable()
export class SessionStoreHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(SESSION_STORE) private readonly store: SessionStore,
  ) {}

  async check(key: string) {
    const indicator = this.health.check(key);
    try {
      await this.store.ping();
      return indicator.up({ sessions: await this.store.count() });
    } catch (e) {
      return indicator.down({ message: (e as Error).message });
    }
  }
}
