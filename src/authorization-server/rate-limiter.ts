import type { RateLimit } from '../config/app-config';

/** Injection token of the {@link RateLimiter} in front of the authorization server. */
export const RATE_LIMITER = Symbol('OAUTH_SERVER_RATE_LIMITER');

/** A verdict: go ahead, or wait `retryAfterSeconds`. */
export interface RateVerdict {
  allowed: boolean;
  retryAfterSeconds: number;
}

/**
 * Counts hits per key (`register:<ip>`, `login:<ip>`...) in fixed windows.
 * The built-in authorization server's routes are served by oidc-provider,
 * outside Nest's guards and throttler, so it limits them itself. Swappable for
 * a shared store (Redis) behind this interface.
 */
export interface RateLimiter {
  /** Counts one hit and says whether it is within `limit`. */
  hit(key: string, limit: RateLimit): RateVerdict;
  /** Whether `key` is over `limit` already, without counting (a failed login is counted only once it failed). */
  peek(key: string, limit: RateLimit): RateVerdict;
}

const MAX_KEYS = 50_000;

/** {@link RateLimiter} in this process's memory: per-instance limits, forgotten on restart. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  hit(key: string, limit: RateLimit): RateVerdict {
    const window = this.window(key, limit, true);
    window.count++;
    return this.verdict(window, limit, 0);
  }

  peek(key: string, limit: RateLimit): RateVerdict {
    const window = this.window(key, limit, false);
    return window ? this.verdict(window, limit, 1) : { allowed: true, retryAfterSeconds: 0 };
  }

  private window(key: string, limit: RateLimit, create: true): { start: number; count: number };
  private window(key: string, limit: RateLimit, create: false): { start: number; count: number } | undefined;
  private window(key: string, limit: RateLimit, create: boolean) {
    const now = this.now();
    let window = this.windows.get(key);
    if (window && now - window.start >= limit.windowSeconds * 1000) {
      this.windows.delete(key);
      window = undefined;
    }
    if (!window && create) {
      if (this.windows.size >= MAX_KEYS) this.sweep(now, limit);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    return window;
  }

  /** `extra`: hits the caller is about to make (peek asks whether one more would pass). */
  private verdict(window: { start: number; count: number }, limit: RateLimit, extra: number): RateVerdict {
    if (window.count + extra <= limit.limit) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.start + limit.windowSeconds * 1000 - this.now()) / 1000)) };
  }

  private sweep(now: number, limit: RateLimit): void {
    for (const [k, w] of this.windows) if (now - w.start >= limit.windowSeconds * 1000) this.windows.delete(k);
    if (this.windows.size >= MAX_KEYS) this.windows.delete(this.windows.keys().next().value!);
  }
}
