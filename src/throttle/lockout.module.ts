import { Module } from '@nestjs/common';
import { LOCKOUT_STORE } from './lockout-store.interface';
import { LockoutService } from './lockout.service';
import { MemoryLockoutStore } from './memory-lockout.store';

/**
 * The auth-failure lockout ({@link LockoutService}), its counters in memory
 * (per instance); a Redis store for fleets plugs in behind LOCKOUT_STORE.
 * (Not @nestjs/throttler's storage: its one operation, `increment`, counts
 * as it checks, while the lockout must check before the credential is
 * verified, count only failures, and forget an account's count on success.)
 */
@Module({
  providers: [{ provide: LOCKOUT_STORE, useFactory: () => new MemoryLockoutStore() }, LockoutService],
  exports: [LockoutService],
})
export class LockoutModule {}
