import { Injectable } from '@nestjs/common';

/**
 * One dependency that readiness checks, contributed by the module that owns
 * it (Redis by the session and throttler stores once REDIS_URL exists, an
 * OpenProject instance by its integration module).
 */
export interface ReadinessCheck {
  /** Key in the `/health/ready` body and in `/status` dependencies: `redis`, `openproject`. */
  name: string;
  /**
   * Resolves (optionally with details for the body) when the dependency
   * answers; throws with a message safe to show on the status port when it
   * does not. `signal` aborts when the timeout passes.
   */
  check(signal: AbortSignal): Promise<Record<string, unknown> | void>;
  /** Overrides READINESS_TIMEOUT_MS for this check. */
  timeoutMs?: number;
  /**
   * `required` (default): down makes readiness 503. `optional`: down is
   * reported as `degraded` and readiness stays 200 (a dependency only some
   * tools need).
   */
  severity?: 'required' | 'optional';
}

/**
 * The readiness checks other modules add to the built-in ones (database,
 * session store, audit backlog, shutdown). Lives in the MCP app; the status
 * app reads it on every `/health/ready`. A module registers in its
 * `onModuleInit` and keeps the returned function to unregister.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly entries = new Map<string, ReadinessCheck>();

  register(check: ReadinessCheck): () => void {
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(check.name)) throw new Error(`Invalid readiness check name "${check.name}"`);
    if (this.entries.has(check.name) || RESERVED.has(check.name)) throw new Error(`Readiness check "${check.name}" is already registered`);
    this.entries.set(check.name, check);
    return () => {
      if (this.entries.get(check.name) === check) this.entries.delete(check.name);
    };
  }

  checks(): ReadinessCheck[] {
    return [...this.entries.values()];
  }
}

/** Names of the built-in indicators. */
export const RESERVED = new Set(['database', 'sessions', 'audit', 'lifecycle']);
