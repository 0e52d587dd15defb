import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LOCKOUT_STORE, type LockoutStore } from './lockout-store.interface';

/** What failures are counted under: the caller's address, or the account a credential names. */
export interface LockoutSubject {
  scope: 'ip' | 'account';
  /** `203.0.113.7`; `user:alice`. */
  id: string;
}

export interface Lockout {
  subject: LockoutSubject;
  /** Whole seconds until the cool-down ends (the `Retry-After` value), at least 1. */
  retryAfterSeconds: number;
}

/**
 * The auth-failure lockout: failed authentications are counted per client
 * IP and per account; the `AUTH_MAX_FAILURES`-th failure of an account (the
 * `AUTH_MAX_FAILURES_PER_IP`-th of an IP) within `AUTH_LOCKOUT_SECONDS`
 * starts a cool-down of `AUTH_LOCKOUT_SECONDS` in which every request of that
 * subject is refused, with the right credential too. Counters live in the
 * {@link LOCKOUT_STORE}.
 */
@Injectable()
export class LockoutService {
  constructor(
    @Inject(LOCKOUT_STORE) private readonly store: LockoutStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The subjects of a request: always its IP, and the account when the credential names one that can be locked. */
  subjects(ip: string | undefined, account?: string): LockoutSubject[] {
    const subjects: LockoutSubject[] = [{ scope: 'ip', id: ip || 'unknown' }];
    if (account) subjects.push({ scope: 'account', id: account });
    return subjects;
  }

  /** The longest cool-down running for any of `subjects`, if any. */
  async blocked(subjects: LockoutSubject[]): Promise<Lockout | undefined> {
    let longest: Lockout | undefined;
    for (const subject of subjects) {
      const ms = await this.store.blockedFor(key(subject));
      if (ms > 0 && (!longest || toSeconds(ms) > longest.retryAfterSeconds)) longest = { subject, retryAfterSeconds: toSeconds(ms) };
    }
    return longest;
  }

  /** Counts one failure for each subject; returns the cool-down this failure started, if it started one. */
  async failed(subjects: LockoutSubject[]): Promise<Lockout | undefined> {
    const { maxFailures, maxFailuresPerIp, seconds } = this.config.auth.lockout;
    let started: Lockout | undefined;
    for (const subject of subjects) {
      const limit = subject.scope === 'ip' ? maxFailuresPerIp : maxFailures;
      const state = await this.store.recordFailure(key(subject), { limit, windowMs: seconds * 1000, blockMs: seconds * 1000 });
      if (state.blockedMs > 0 && (!started || toSeconds(state.blockedMs) > started.retryAfterSeconds)) {
        started = { subject, retryAfterSeconds: toSeconds(state.blockedMs) };
      }
    }
    return started;
  }

  /** A success forgets the account's failures (not the IP's: one good account must not launder guesses at others). */
  async succeeded(account: string | undefined): Promise<void> {
    if (account) await this.store.reset(key({ scope: 'account', id: account }));
  }
}

const key = (subject: LockoutSubject) => `${subject.scope}:${subject.id}`;
const toSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
