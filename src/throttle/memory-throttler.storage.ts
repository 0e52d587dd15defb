import type { OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Counter {
  hits: number;
  /** End of the window (ms since epoch). */
  expiresAt: number;
  /** End of the block after the limit was passed; 0 when not blocked. */
  blockedUntil: number;
}

/** Expired counters are dropped this often. */
const SWEEP_INTERVAL_MS = 60_000;

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * @nestjs/throttler storage in this process: a fixed window per key, the
 * algorithm of {@link RedisThrottlerStorage}'s script (the first hit starts
 * the window; the hit past the limit blocks the key for the block duration,
 * and counting starts afresh after it), so a limit behaves alike with and
 * without Redis. One counter per key, O(1) per hit: the library's own
 * storage keeps a timestamp per hit and scans them all on every hit, which
 * cost ~0.2 ms per request at 10,000 requests in a window and ~0.9 ms at 30,000.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly counters = new Map<string, Counter>();
  private readonly sweep = setInterval(() => this.dropExpired(), SWEEP_INTERVAL_MS);

  constructor() {
    this.sweep.unref();
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, _throttlerName: string): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    let counter = this.counters.get(key);
    if (counter && counter.blockedUntil > now) {
      const live = counter.expiresAt > now;
      return {
        totalHits: (live ? counter.hits : 0) + 1,
        timeToExpire: seconds(live ? counter.expiresAt - now : 0),
        isBlocked: true,
        timeToBlockExpire: seconds(counter.blockedUntil - now),
      };
    }
    if (!counter || counter.expiresAt <= now) {
      counter = { hits: 0, expiresAt: now + ttl, blockedUntil: 0 };
      this.counters.set(key, counter);
    }
    counter.hits++;
    const ttlLeft = counter.expiresAt - now;
    if (counter.hits > limit && blockDuration > 0) {
      const hits = counter.hits;
      // The window is dropped; the block carries on alone (the script's DEL + SET PX).
      counter.hits = 0;
      counter.expiresAt = now;
      counter.blockedUntil = now + blockDuration;
      return { totalHits: hits, timeToExpire: seconds(ttlLeft), isBlocked: true, timeToBlockExpire: seconds(blockDuration) };
    }
    return { totalHits: counter.hits, timeToExpire: seconds(ttlLeft), isBlocked: counter.hits > limit, timeToBlockExpire: 0 };
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweep);
    this.counters.clear();
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [key, counter] of this.counters) {
      if (counter.expiresAt <= now && counter.blockedUntil <= now) this.counters.delete(key);
    }
  }
}
