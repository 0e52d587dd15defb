import type { OnModuleDestroy } from '@nestjs/common';
import type { LockoutLimits, LockoutState, LockoutStore } from './lockout-store.interface';

interface Entry {
  failures: number;
  windowEnds: number;
  blockedUntil: number;
}

/** Keys tracked at most; past it the oldest are dropped (a spray of invented user names must not grow memory without end). */
const MAX_KEYS = 100_000;
const SWEEP_MS = 60_000;

/**
 * {@link LockoutStore} in process memory: for a single instance (each
 * instance of a fleet counts on its own). Expired entries are swept every
 * minute. `now` is the clock (tests pass their own).
 */
export class MemoryLockoutStore implements LockoutStore, OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref();

  constructor(private readonly now: () => number = Date.now) {}

  async blockedFor(key: string): Promise<number> {
    const entry = this.entries.get(key);
    return entry ? Math.max(0, entry.blockedUntil - this.now()) : 0;
  }

  async recordFailure(key: string, { limit, windowMs, blockMs }: LockoutLimits): Promise<LockoutState> {
    const now = this.now();
    let entry = this.entries.get(key);
    if (!entry || (entry.windowEnds <= now && entry.blockedUntil <= now)) {
      entry = { failures: 0, windowEnds: now + windowMs, blockedUntil: 0 };
      this.entries.delete(key);
      if (this.entries.size >= MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, entry);
    }
    if (entry.blockedUntil > now) return { failures: entry.failures, blockedMs: entry.blockedUntil - now };
    entry.failures++;
    if (entry.failures >= limit) Object.assign(entry, { failures: 0, blockedUntil: now + blockMs, windowEnds: now + blockMs });
    return { failures: entry.failures, blockedMs: Math.max(0, entry.blockedUntil - now) };
  }

  async reset(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry && entry.blockedUntil <= this.now()) this.entries.delete(key);
  }

  /** Keys tracked now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.windowEnds <= now && entry.blockedUntil <= now) this.entries.delete(key);
    }
  }
}
