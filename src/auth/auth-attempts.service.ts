import { Injectable, Logger } from '@nestjs/common';
import type { AuthMethod, Principal } from '@portico/mcp-core';
import { AuditService } from '../audit/audit.service';
import { type Lockout, LockoutService, type LockoutSubject } from '../throttle/lockout.service';
import type { AuthFailureReason } from './verification';

/** One presented credential, as a strategy saw it. Never holds the secret. */
export interface AuthAttempt {
  method: Extract<AuthMethod, 'bearer' | 'api_key' | 'basic' | 'oauth'>;
  /** What the credential claimed: `user:alice`, `key:ptk_1a2b3c4d`; unknown for a wrong static token. */
  account?: string;
}

/** A successful authentication is audited at most once per principal and client IP in this interval. */
export const SUCCESS_AUDIT_INTERVAL_MS = 10 * 60_000;
const MAX_TRACKED = 10_000;

/**
 * What happens around a credential check, for every way in (the auth guard
 * now, the login page of the built-in authorization server later): the
 * lockout before it, counting and auditing after it.
 *
 * - Failures are all audited (`auth_failure`: method, account, reason) and
 *   counted per client IP; those naming a user are also counted per user.
 *   API keys are not locked per key: a key is 256 random bits, so a lock
 *   would protect nothing and would let anyone who saw a prefix in a list
 *   or a log lock a working key out.
 * - A request refused during a cool-down is not checked at all (no scrypt
 *   to burn); the first refusal of each cool-down is audited.
 * - Successes are sampled: one `auth_success` per principal and client IP
 *   every 10 minutes (per instance), not one row per request.
 */
@Injectable()
export class AuthAttemptsService {
  private readonly logger = new Logger('Auth');
  private readonly successAudited = new Map<string, number>();
  private readonly refusalAudited = new Map<string, number>();

  constructor(
    private readonly lockout: LockoutService,
    private readonly audit: AuditService,
  ) {}

  /**
   * The cool-down that refuses this request before its credential is
   * checked, if one runs for its IP or for the account it claims.
   */
  async refusal(ip: string | undefined, attempt?: AuthAttempt): Promise<Lockout | undefined> {
    const lock = await this.lockout.blocked(this.lockout.subjects(ip, lockableAccount(attempt)));
    if (lock && this.firstOf(this.refusalAudited, subjectKey(lock.subject), lock.retryAfterSeconds * 1000)) {
      this.logger.warn({ method: attempt?.method, account: attempt?.account, ip, lockout: lock.subject.scope }, 'authentication refused: cool-down running');
      this.audit.record({
        kind: 'auth_failure',
        outcome: 'locked',
        authMethod: attempt?.method,
        errorCode: 'locked_out',
        detail: { account: attempt?.account ?? null, reason: 'locked_out', lockout: describe(lock) },
      });
    }
    return lock;
  }

  /** After a refused credential: counts it, audits it; returns the cool-down it started, if any. */
  async failed(ip: string | undefined, attempt: AuthAttempt, reason: AuthFailureReason): Promise<Lockout | undefined> {
    const lock = await this.lockout.failed(this.lockout.subjects(ip, lockableAccount(attempt)));
    const facts = { method: attempt.method, account: attempt.account ?? null, reason };
    if (lock) this.logger.warn({ ...facts, ip, lockout: describe(lock) }, 'authentication failed: cool-down started');
    else this.logger.log({ ...facts, ip }, 'authentication failed');
    this.audit.record({
      kind: 'auth_failure',
      outcome: 'denied',
      authMethod: attempt.method,
      errorCode: reason,
      detail: { account: facts.account, reason, ...(lock ? { lockout: describe(lock) } : {}) },
    });
    return lock;
  }

  /** After an accepted credential: clears the account's failures; audits the first success in a while. */
  async succeeded(ip: string | undefined, attempt: AuthAttempt, principal: Principal): Promise<void> {
    await this.lockout.succeeded(lockableAccount(attempt));
    if (!this.firstOf(this.successAudited, `${principal.id}\0${ip ?? ''}`, SUCCESS_AUDIT_INTERVAL_MS)) return;
    this.audit.record({
      kind: 'auth_success',
      outcome: 'ok',
      principalId: principal.id,
      authMethod: principal.authMethod,
      detail: { account: attempt.account ?? principal.id, sampledEverySeconds: SUCCESS_AUDIT_INTERVAL_MS / 1000 },
    });
  }

  /** True the first time `key` is seen in `intervalMs`. Bounded: the oldest keys go first. */
  private firstOf(seen: Map<string, number>, key: string, intervalMs: number): boolean {
    const now = Date.now();
    const until = seen.get(key);
    if (until !== undefined && until > now) return false;
    seen.delete(key);
    if (seen.size >= MAX_TRACKED) seen.delete(seen.keys().next().value!);
    seen.set(key, now + intervalMs);
    return true;
  }
}

/** Only password accounts are locked: guessing a password is feasible, guessing a key is not. */
function lockableAccount(attempt: AuthAttempt | undefined): string | undefined {
  return attempt?.method === 'basic' ? attempt.account : undefined;
}

const subjectKey = (subject: LockoutSubject) => `${subject.scope}:${subject.id}`;

const describe = (lock: Lockout) => ({ scope: lock.subject.scope, subject: lock.subject.id, retryAfterSeconds: lock.retryAfterSeconds });
