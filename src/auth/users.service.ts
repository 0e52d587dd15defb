import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Principal } from '@portico/mcp-core';
import { createHmac, randomBytes } from 'node:crypto';
import { IsNull, QueryFailedError, type Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig, USERNAME } from '../config/app-config';
import { hashPassword, verifyPasswordHash } from './password-hash';
import { User } from './user.entity';
import { type Actor, CredentialsError, type Verification } from './verification';

export const MIN_PASSWORD_LENGTH = 8;
/** Longer passwords are refused unchecked: scrypt would take them, but nobody types 1 KiB. */
export const MAX_PASSWORD_LENGTH = 1024;
/** How long a verified (user, password hash, password) triple skips scrypt. */
const VERIFIED_TTL_MS = 5 * 60_000;
const VERIFIED_MAX = 10_000;

/** A user as listed: no password hash. */
export type UserSummary = Pick<User, 'id' | 'username' | 'scopes' | 'disabledAt' | 'createdAt' | 'updatedAt'> & {
  /** `env`: from AUTH_BASIC_USERS (all scopes, managed in the environment, not by these commands). */
  source: 'database' | 'env';
};

/**
 * Portico users: added, re-passworded and disabled by `portico users`, and
 * verified by HTTP Basic on every request (and by the built-in authorization
 * server's login page). Users from `AUTH_BASIC_USERS` get every scope and
 * take precedence over a database user of the same name.
 *
 * Basic sends the password with every request, and scrypt costs ~0.2 s: a
 * successful check is remembered for 5 minutes under an HMAC (with a
 * per-process random key) of the user, the stored hash and the password, so
 * the next requests skip scrypt. Only successes are remembered; a changed
 * password changes the stored hash, so the entry stops matching; and the
 * user row (disabled or not) is read on every request.
 */
@Injectable()
export class UsersService {
  private readonly envUsers: Map<string, string>;
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, number>();
  /** Hash of a random password, verified against for unknown users so their timing matches a real check. */
  private dummyHash?: Promise<string>;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.envUsers = new Map(config.auth.basicUsers.map((u) => [u.name, u.hash]));
  }

  async add(input: { username: string; password: string; scopes: string[] }, actor: Actor): Promise<User> {
    checkUsername(input.username);
    checkPassword(input.password);
    if (this.envUsers.has(input.username)) {
      throw new CredentialsError('exists', `user "${input.username}" is defined in AUTH_BASIC_USERS`);
    }
    let user: User;
    try {
      user = await this.users.save(
        this.users.create({ username: input.username, passwordHash: await hashPassword(input.password), scopes: input.scopes }),
      );
    } catch (e) {
      if (e instanceof QueryFailedError && (e.driverError as { code?: string })?.code === '23505') {
        throw new CredentialsError('exists', `user "${input.username}" already exists`);
      }
      throw e;
    }
    this.audit.record({
      kind: 'user_created',
      outcome: 'ok',
      principalId: actor.id,
      authMethod: actor.authMethod,
      detail: { userId: user.id, username: user.username, scopes: user.scopes },
    });
    return user;
  }

  /** Sets a new password; a disabled user stays disabled. */
  async passwd(username: string, password: string, actor: Actor): Promise<User> {
    checkPassword(password);
    const user = await this.mustFind(username);
    user.passwordHash = await hashPassword(password);
    user.updatedAt = new Date();
    await this.users.update({ id: user.id }, { passwordHash: user.passwordHash, updatedAt: user.updatedAt });
    this.audit.record({
      kind: 'user_changed',
      outcome: 'ok',
      principalId: actor.id,
      authMethod: actor.authMethod,
      detail: { userId: user.id, username, change: 'password' },
    });
    return user;
  }

  /** Disables a user: every later request with their password gets 401. Idempotent, audited once. */
  async disable(username: string, actor: Actor): Promise<{ user: User; alreadyDisabled: boolean }> {
    const user = await this.mustFind(username);
    if (user.disabledAt) return { user, alreadyDisabled: true };
    user.disabledAt = user.updatedAt = new Date();
    await this.users.update({ id: user.id }, { disabledAt: user.disabledAt, updatedAt: user.updatedAt });
    this.audit.record({
      kind: 'user_disabled',
      outcome: 'ok',
      principalId: actor.id,
      authMethod: actor.authMethod,
      detail: { userId: user.id, username },
    });
    return { user, alreadyDisabled: false };
  }

  async list(): Promise<UserSummary[]> {
    const rows = await this.users.find({ order: { username: 'ASC' } });
    const env: UserSummary[] = [...this.envUsers.keys()].map((username) => ({
      id: '',
      username,
      scopes: ['*'],
      disabledAt: null,
      createdAt: new Date(0),
      updatedAt: new Date(0),
      source: 'env',
    }));
    return [
      ...env,
      ...rows
        .filter((u) => !this.envUsers.has(u.username))
        .map(({ passwordHash: _, ...u }) => ({ ...u, source: 'database' as const })),
    ];
  }

  /**
   * Checks a user name and password. Unknown users cost a scrypt run too (on
   * a dummy hash), so the answer's timing does not tell whether a user
   * exists; hashes are compared in constant time. `disabled` is only reported
   * for the right password.
   */
  async verifyPassword(username: string, password: string): Promise<Verification> {
    const account = userAccount(username);
    if (!USERNAME.test(username) || password.length > MAX_PASSWORD_LENGTH) {
      await verifyPasswordHash(password.slice(0, MAX_PASSWORD_LENGTH), await this.dummy());
      return { ok: false, reason: USERNAME.test(username) ? 'bad_password' : 'unknown_user', account };
    }
    const envHash = this.envUsers.get(username);
    const user = envHash === undefined ? await this.users.findOneBy({ username }) : null;
    const stored = envHash ?? user?.passwordHash;
    if (stored === undefined) {
      await verifyPasswordHash(password, await this.dummy());
      return { ok: false, reason: 'unknown_user', account };
    }
    if (!(await this.check(username, password, stored))) return { ok: false, reason: 'bad_password', account };
    if (user?.disabledAt) return { ok: false, reason: 'disabled', account };
    return { ok: true, principal: principalOf(username, envHash === undefined ? user!.scopes : ['*']), account };
  }

  /**
   * The principal of an active user, or undefined once disabled or gone: how
   * the built-in authorization server checks that an account it signed in
   * earlier still stands.
   */
  async principalOf(username: string): Promise<Principal | undefined> {
    if (this.envUsers.has(username)) return principalOf(username, ['*']);
    const user = USERNAME.test(username) ? await this.users.findOneBy({ username }) : null;
    return user && !user.disabledAt ? principalOf(username, user.scopes) : undefined;
  }

  /** Whether anyone can sign in with a password: a user in AUTH_BASIC_USERS, or an enabled database user. */
  async anyActive(): Promise<boolean> {
    return this.envUsers.size > 0 || (await this.users.existsBy({ disabledAt: IsNull() }));
  }

  private async check(username: string, password: string, stored: string): Promise<boolean> {
    const key = createHmac('sha256', this.cacheKey).update(`${username}\0${stored}\0${password}`).digest('base64url');
    const now = Date.now();
    const until = this.verified.get(key);
    if (until !== undefined && until > now) return true;
    if (until !== undefined) this.verified.delete(key);
    if (!(await verifyPasswordHash(password, stored))) return false;
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, now + VERIFIED_TTL_MS);
    return true;
  }

  private dummy(): Promise<string> {
    return (this.dummyHash ??= hashPassword(randomBytes(16).toString('base64url')));
  }

  private async mustFind(username: string): Promise<User> {
    if (this.envUsers.has(username)) {
      throw new CredentialsError('invalid', `user "${username}" is defined in AUTH_BASIC_USERS: change it there`);
    }
    const user = USERNAME.test(username) ? await this.users.findOneBy({ username }) : null;
    if (!user) throw new CredentialsError('not_found', `no user "${username.slice(0, 64)}"`);
    return user;
  }
}

function principalOf(username: string, scopes: string[]): Principal {
  return { id: userAccount(username), kind: 'user', displayName: username, scopes, authMethod: 'basic' };
}

/**
 * The account a user name claims, as the audit log and the lockout name it:
 * `user:<name>`, bounded and printable (a mistyped field may hold anything).
 */
export function userAccount(username: string): string {
  return `user:${username.slice(0, 64).replace(/[^\x21-\x7e]/g, '?')}`;
}

function checkUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new CredentialsError('invalid', 'the user name must be 1 to 64 letters, digits or _.@- (no colon)');
  }
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new CredentialsError('invalid', `the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new CredentialsError('invalid', `the password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}
