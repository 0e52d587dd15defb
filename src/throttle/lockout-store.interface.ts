/** What a {@link LockoutStore} knows about one key after counting a failure. */
export interface LockoutState {
  /** Failures counted in the current window (0 once a cool-down started). */
  failures: number;
  /** Milliseconds left of the key's cool-down; 0 when it is not blocked. */
  blockedMs: number;
}

export interface LockoutLimits {
  /** The failure that reaches this count starts the cool-down. */
  limit: number;
  /** Failures older than this are forgotten (a window opens at the first failure). */
  windowMs: number;
  /** How long the cool-down lasts. */
  blockMs: number;
}

/**
 * Failure counters and cool-downs for the auth-failure lockout, by key
 * (`ip:203.0.113.7`, `account:user:alice`). Each method is atomic per key.
 * The memory store serves one instance; a fleet needs a shared one (Redis:
 * `INCR` + `PEXPIRE … NX` on the counter, `SET … PX` for the block, `PTTL`
 * to read it), so every instance sees the same counts.
 */
export interface LockoutStore {
  /** Milliseconds left of the cool-down of `key`; 0 when it is not blocked. */
  blockedFor(key: string): Promise<number>;
  /**
   * Counts one failure of `key`; the one that reaches `limit` within
   * `windowMs` blocks the key for `blockMs` and clears the count.
   */
  recordFailure(key: string, limits: LockoutLimits): Promise<LockoutState>;
  /** Forgets the failures counted for `key` (a running cool-down stays). */
  reset(key: string): Promise<void>;
}

export const LOCKOUT_STORE = Symbol('LOCKOUT_STORE');
