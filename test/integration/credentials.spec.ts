import { Client } from 'pg';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { hashPassword } from '../../src/auth/password-hash';
import { UsersService } from '../../src/auth/users.service';
import type { Actor } from '../../src/auth/verification';
import { migrate } from '../../src/cli/migrate.command';
import { withCredentials } from '../../src/cli/credentials-context';
import { loadConfig } from '../../src/config/app-config';
import { postgresAvailable, scratchDatabase } from '../support/postgres';
import { tempDirs } from '../support/temp-dirs';

const ADMIN: Actor = { id: 'cli:test-admin', authMethod: 'cli' };

/**
 * API keys and users on real PostgreSQL, through the services the guard, the
 * CLI and the login page share: what is stored (never the secret), and every
 * way a check can fail.
 */
describe('credentials on PostgreSQL', () => {
  const tempDir = tempDirs('portico-credentials-');
  let available = false;
  let db: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  let pg: Client;
  let envHash: string;

  beforeAll(async () => {
    available = await postgresAvailable();
    if (!available) return;
    db = await scratchDatabase();
    await migrate(loadConfig({ DATABASE_URL: db.url, DATA_DIR: tempDir(), LOG_LEVEL: 'silent' }));
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    envHash = await hashPassword('env user password');
  });

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  /** The services on the scratch database, as `portico keys/users` get them; audit events are flushed on return. */
  function services<T>(work: (s: { keys: ApiKeyService; users: UsersService }) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
    const config = loadConfig({ DATABASE_URL: db!.url, DATA_DIR: tempDir(), LOG_LEVEL: 'silent', ...env });
    return withCredentials(config, (c) => work(c));
  }

  const auditRows = async (kind: string) =>
    (await pg.query(`SELECT principal_id, auth_method, detail FROM audit_events WHERE kind = $1 ORDER BY id`, [kind])).rows;

  describe('API keys', () => {
    it('stores the prefix and a SHA-256 of the key, never the key, and audits the creation', async () => {
      if (!available) return;
      const { key, record } = await services((s) => s.keys.create({ name: 'ci deploy', scopes: ['reports:read'] }, ADMIN));

      expect(key).toMatch(/^ptk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
      expect(key.startsWith(`${record.prefix}_`)).toBe(true);
      const { rows } = await pg.query(`SELECT * FROM api_keys WHERE id = $1`, [record.id]);
      expect(rows[0]).toMatchObject({ name: 'ci deploy', prefix: record.prefix, scopes: ['reports:read'], created_by: 'cli:test-admin', expires_at: null, last_used_at: null, revoked_at: null });
      expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
      const secret = key.slice(record.prefix.length + 1);
      expect(JSON.stringify(rows)).not.toContain(secret);

      expect(await auditRows('api_key_created')).toContainEqual({
        principal_id: 'cli:test-admin',
        auth_method: 'cli',
        detail: { keyId: record.id, prefix: record.prefix, name: 'ci deploy', scopes: ['reports:read'], expiresAt: null },
      });
    });

    it('verifies the key to a service principal with its scopes, and records the use at most once a minute', async () => {
      if (!available) return;
      const { key, record } = await services((s) => s.keys.create({ name: 'metamcp', scopes: ['reports:read', 'tickets:write'] }, ADMIN));

      const [first, second] = await services(async (s) => [await s.keys.verify(key), await s.keys.verify(key)]);

      for (const result of [first, second]) {
        expect(result).toEqual({
          ok: true,
          account: `key:${record.prefix}`,
          principal: { id: `key:${record.prefix}`, kind: 'service', displayName: 'metamcp', scopes: ['reports:read', 'tickets:write'], authMethod: 'api_key' },
        });
      }
      await waitFor(async () => (await pg.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [record.id])).rows[0].last_used_at);
      const used = (await pg.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [record.id])).rows[0].last_used_at as Date;

      // Another instance (or a restart) reads last_used_at from the row and does not write again within the minute.
      await services((s) => s.keys.verify(key));
      await new Promise((r) => setTimeout(r, 200));
      expect((await pg.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [record.id])).rows[0].last_used_at).toEqual(used);
    });

    it('refuses malformed keys, unknown prefixes and wrong secrets, naming the claimed key', async () => {
      if (!available) return;
      const { key, record } = await services((s) => s.keys.create({ name: 'victim', scopes: [] }, ADMIN));
      const wrong = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;

      const results = await services(async (s) => ({
        malformed: await s.keys.verify('ptk_nothex00_abc'),
        unknown: await s.keys.verify(`ptk_ffffffff_${key.slice(-43)}`),
        wrong: await s.keys.verify(wrong),
      }));

      expect(results.malformed).toEqual({ ok: false, reason: 'malformed' });
      expect(results.unknown).toEqual({ ok: false, reason: 'unknown_key', account: 'key:ptk_ffffffff' });
      expect(results.wrong).toEqual({ ok: false, reason: 'bad_secret', account: `key:${record.prefix}` });
    });

    it('revokes by prefix or id, once; a revoked key is refused as revoked only with the right secret', async () => {
      if (!available) return;
      const { key, record } = await services((s) => s.keys.create({ name: 'to revoke', scopes: [] }, ADMIN));

      const outcome = await services(async (s) => ({
        first: await s.keys.revoke(record.prefix, ADMIN),
        again: await s.keys.revoke(record.id.toUpperCase(), ADMIN),
        right: await s.keys.verify(key),
        wrong: await s.keys.verify(`${record.prefix}_${'x'.repeat(43)}`),
        missing: await s.keys.revoke('ptk_00000000', ADMIN).catch((e: Error) => e.message),
      }));

      expect(outcome.first.alreadyRevoked).toBe(false);
      expect(outcome.again.alreadyRevoked).toBe(true);
      expect(outcome.right).toEqual({ ok: false, reason: 'revoked', account: `key:${record.prefix}` });
      expect(outcome.wrong).toMatchObject({ ok: false, reason: 'bad_secret' });
      expect(outcome.missing).toBe('no API key with id or prefix "ptk_00000000"');
      const revocations = (await auditRows('api_key_revoked')).filter((r) => r.detail.keyId === record.id);
      expect(revocations).toEqual([{ principal_id: 'cli:test-admin', auth_method: 'cli', detail: { keyId: record.id, prefix: record.prefix, name: 'to revoke' } }]);
    });

    it('refuses an expired key, and refuses to create one already expired', async () => {
      if (!available) return;
      const { key, record } = await services((s) => s.keys.create({ name: 'short lived', scopes: [], expiresAt: new Date(Date.now() + 60_000) }, ADMIN));
      await pg.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [record.id]);

      expect(await services((s) => s.keys.verify(key))).toEqual({ ok: false, reason: 'expired', account: `key:${record.prefix}` });
      await expect(services((s) => s.keys.create({ name: 'past', scopes: [], expiresAt: new Date(Date.now() - 1000) }, ADMIN))).rejects.toThrow(
        'the expiry must be in the future',
      );
    });

    it('lists every key, newest first', async () => {
      if (!available) return;
      const list = await services((s) => s.keys.list());

      expect(list.length).toBeGreaterThanOrEqual(5);
      expect(list.map((k) => k.createdAt.getTime())).toEqual([...list.map((k) => k.createdAt.getTime())].sort((a, b) => b - a));
    });
  });

  describe('users', () => {
    it('stores a scrypt hash with its parameters, never the password, and audits the creation', async () => {
      if (!available) return;
      const user = await services((s) => s.users.add({ username: 'alice', password: 'alice: the password', scopes: ['reports:read'] }, ADMIN));

      const { rows } = await pg.query(`SELECT * FROM users WHERE username = 'alice'`);
      expect(rows[0]).toMatchObject({ id: user.id, scopes: ['reports:read'], disabled_at: null });
      expect(rows[0].password_hash).toMatch(/^scrypt:ln=15:r=8:p=3:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(rows)).not.toContain('the password');
      expect(await auditRows('user_created')).toContainEqual({
        principal_id: 'cli:test-admin',
        auth_method: 'cli',
        detail: { userId: user.id, username: 'alice', scopes: ['reports:read'] },
      });
    });

    it('verifies the password (colons included) to a user principal; refuses a wrong one and unknown users alike', async () => {
      if (!available) return;
      const results = await services(async (s) => ({
        right: await s.users.verifyPassword('alice', 'alice: the password'),
        again: await s.users.verifyPassword('alice', 'alice: the password'),
        wrong: await s.users.verifyPassword('alice', 'alice'),
        unknown: await s.users.verifyPassword('mallory', 'alice: the password'),
        invalidName: await s.users.verifyPassword('bad name\n', 'x'),
      }));

      for (const ok of [results.right, results.again]) {
        expect(ok).toEqual({ ok: true, account: 'user:alice', principal: { id: 'user:alice', kind: 'user', displayName: 'alice', scopes: ['reports:read'], authMethod: 'basic' } });
      }
      expect(results.wrong).toEqual({ ok: false, reason: 'bad_password', account: 'user:alice' });
      expect(results.unknown).toEqual({ ok: false, reason: 'unknown_user', account: 'user:mallory' });
      expect(results.invalidName).toEqual({ ok: false, reason: 'unknown_user', account: 'user:bad?name?' });
    });

    it('spends as long on an unknown user as on a wrong password (a dummy scrypt)', async () => {
      if (!available) return;
      const timing = await services(async (s) => {
        await s.users.verifyPassword('nobody', 'warm up the dummy hash');
        const time = async (name: string) => {
          const start = performance.now();
          await s.users.verifyPassword(name, 'not the password');
          return performance.now() - start;
        };
        // Interleaved samples, compared by their fastest: load from elsewhere on the machine only adds time.
        const known: number[] = [];
        const unknown: number[] = [];
        for (let i = 0; i < 4; i++) {
          known.push(await time('alice'));
          unknown.push(await time('nobody'));
        }
        return { known: Math.min(...known), unknown: Math.min(...unknown) };
      });

      expect(timing.known).toBeGreaterThan(50);
      expect(timing.unknown).toBeGreaterThan(timing.known * 0.5);
    });

    it('changes a password (the old one stops working at once) and disables a user, each audited once', async () => {
      if (!available) return;
      await services(async (s) => {
        await s.users.add({ username: 'bob', password: 'first password', scopes: [] }, ADMIN);
        expect((await s.users.verifyPassword('bob', 'first password')).ok).toBe(true);

        await s.users.passwd('bob', 'second password', ADMIN);
        expect(await s.users.verifyPassword('bob', 'first password')).toMatchObject({ ok: false, reason: 'bad_password' });
        expect((await s.users.verifyPassword('bob', 'second password')).ok).toBe(true);

        expect((await s.users.disable('bob', ADMIN)).alreadyDisabled).toBe(false);
        expect((await s.users.disable('bob', ADMIN)).alreadyDisabled).toBe(true);
        expect(await s.users.verifyPassword('bob', 'second password')).toEqual({ ok: false, reason: 'disabled', account: 'user:bob' });
        expect(await s.users.verifyPassword('bob', 'first password')).toMatchObject({ reason: 'bad_password' });
      });

      const changed = (await auditRows('user_changed')).filter((r) => r.detail.username === 'bob');
      const disabled = (await auditRows('user_disabled')).filter((r) => r.detail.username === 'bob');
      expect(changed).toEqual([expect.objectContaining({ principal_id: 'cli:test-admin', detail: expect.objectContaining({ change: 'password' }) })]);
      expect(disabled).toHaveLength(1);
      const { rows } = await pg.query(`SELECT disabled_at, updated_at, created_at FROM users WHERE username = 'bob'`);
      expect(rows[0].disabled_at).toBeInstanceOf(Date);
      expect(rows[0].updated_at.getTime()).toBeGreaterThan(rows[0].created_at.getTime());
    });

    it.each([
      ['a taken name', { username: 'alice', password: 'long enough' }, 'user "alice" already exists'],
      ['a name with a colon', { username: 'a:b', password: 'long enough' }, /user name must be/],
      ['a short password', { username: 'carol', password: 'short' }, 'the password must be at least 8 characters'],
    ])('refuses to add a user with %s', async (_, input, message) => {
      if (!available) return;
      await expect(services((s) => s.users.add({ ...input, scopes: [] }, ADMIN))).rejects.toThrow(message);
    });

    it('serves AUTH_BASIC_USERS with every scope, ahead of the database, and keeps them out of the commands', async () => {
      if (!available) return;
      const env = { AUTH_BASIC_USERS: `alice:${envHash},envonly:${envHash}` };
      const results = await services(
        async (s) => ({
          envonly: await s.users.verifyPassword('envonly', 'env user password'),
          shadowed: await s.users.verifyPassword('alice', 'alice: the password'),
          alice: await s.users.verifyPassword('alice', 'env user password'),
          add: await s.users.add({ username: 'envonly', password: 'long enough', scopes: [] }, ADMIN).catch((e: Error) => e.message),
          disable: await s.users.disable('envonly', ADMIN).catch((e: Error) => e.message),
          list: (await s.users.list()).map((u) => [u.username, u.source]),
        }),
        env,
      );

      expect(results.envonly).toMatchObject({ ok: true, principal: { id: 'user:envonly', scopes: ['*'], authMethod: 'basic' } });
      expect(results.shadowed).toMatchObject({ ok: false, reason: 'bad_password' });
      expect(results.alice).toMatchObject({ ok: true, principal: { scopes: ['*'] } });
      expect(results.add).toBe('user "envonly" is defined in AUTH_BASIC_USERS');
      expect(results.disable).toMatch(/defined in AUTH_BASIC_USERS: change it there/);
      expect(results.list).toEqual([['alice', 'env'], ['envonly', 'env'], ['bob', 'database']]);
    });
  });
});

async function waitFor(check: () => Promise<unknown>, timeoutMs = 5000): Promise<void> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 25))) {
    if (await check()) return;
  }
  throw new Error('condition not met in time');
}
