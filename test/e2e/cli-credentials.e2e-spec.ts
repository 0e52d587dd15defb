import { userInfo } from 'node:os';
import { join } from 'node:path';
import { verifyPasswordHash } from '../../src/auth/password-hash';
import { Client } from 'pg';
import { basic, bearer } from '../support/portico';
import { postgresAvailable, scratchDatabase } from '../support/postgres';
import { ROOT, type Spawned, spawnPortico } from '../support/process';
import { ACCEPT, initialize } from '../support/raw-mcp';
import { tempDirs } from '../support/temp-dirs';

/** The `portico` bin of package.json, built. */
const BIN = join(ROOT, 'dist', 'src', 'cli', 'portico.js');
const ACTOR = `cli:${userInfo().username}`;

/** Runs the built `portico` with `args`, feeding `stdin` (a password) when given. */
async function portico(env: Record<string, string>, args: string[], stdin?: string): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const run = spawnPortico(env, args, { script: BIN, stdin: 'pipe' });
  run.child.stdin!.end(stdin ?? '');
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Starts the built server; resolves with its /mcp URL. */
async function serve(env: Record<string, string>): Promise<{ server: Spawned; url: string }> {
  const server = spawnPortico({ PORT: '0', STATUS_PORT: '0', ...env });
  const [, url] = await server.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/);
  return { server, url };
}

async function stop(server: Spawned): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

const status = async (url: string, headers: Record<string, string>) =>
  (await fetch(url, { method: 'POST', headers: { ...ACCEPT, ...headers }, body: JSON.stringify(initialize) })).status;

/**
 * `portico keys` and `portico users` end to end, as an operator uses them:
 * the built CLI against the database of a running server. Create → use →
 * revoke → refused.
 */
describe('portico keys / portico users', () => {
  const tempDir = tempDirs('portico-cli-');

  describe('on PostgreSQL, next to a running server', () => {
    let available = false;
    let db: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
    let env: Record<string, string>;

    beforeAll(async () => {
      available = await postgresAvailable();
      if (!available) return;
      db = await scratchDatabase();
      env = { DATABASE_URL: db.url, DATA_DIR: tempDir(), AUTH_TOKENS: 'ops:ops-static-token-0123456789' };
      expect((await portico(env, ['migrate'])).code).toBe(0);
    });

    afterAll(async () => {
      await db?.drop();
    });

    it('keys: create prints the key once on stdout; it works at once; revoke refuses it at once', async () => {
      if (!available) return;
      const created = await portico(env, ['keys', 'create', '--name', 'metamcp', '--scopes', 'reports:read,tickets:write', '--expires', '30d']);
      expect(created.code).toBe(0);
      const key = created.stdout.trim();
      expect(key).toMatch(/^ptk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
      const prefix = key.slice(0, 12);
      expect(created.stderr).toContain(`Created API key ${prefix} ("metamcp", scopes: reports:read,tickets:write, expires: `);
      expect(created.stderr).not.toContain(key);

      const { server, url } = await serve(env);
      try {
        expect(await status(url, bearer(key))).toBe(200);
        expect(await status(url, { 'X-API-Key': key })).toBe(200);

        const listed = await portico(env, ['keys', 'list', '--json']);
        expect(listed.code).toBe(0);
        const entry = (JSON.parse(listed.stdout) as Record<string, unknown>[]).find((k) => k.prefix === prefix);
        expect(entry).toMatchObject({ name: 'metamcp', scopes: ['reports:read', 'tickets:write'], status: 'active', createdBy: ACTOR, lastUsedAt: expect.any(String) });
        expect(listed.stdout).not.toContain(key.slice(13));
        const table = await portico(env, ['keys', 'list']);
        expect(table.stdout).toMatch(new RegExp(`^PREFIX +NAME +SCOPES +STATUS .*\\n${prefix} +metamcp +reports:read,tickets:write +active `, 'm'));

        const revoked = await portico(env, ['keys', 'revoke', prefix]);
        expect(revoked).toMatchObject({ code: 0, stdout: '' });
        expect(revoked.stderr).toBe(`Revoked: API key ${prefix} ("metamcp")\n`);
        expect(await status(url, bearer(key))).toBe(401);
        expect(await status(url, { 'X-API-Key': key })).toBe(401);

        const again = await portico(env, ['keys', 'list', '--json']);
        expect((JSON.parse(again.stdout) as Record<string, unknown>[]).find((k) => k.prefix === prefix)).toMatchObject({ status: 'revoked' });
        expect((await portico(env, ['keys', 'revoke', 'ptk_00000000'])).code).toBe(1);
      } finally {
        await stop(server);
      }

      const audit = await pgQuery(db!.url, `SELECT kind, principal_id, auth_method FROM audit_events WHERE kind LIKE 'api_key_%' AND detail->>'prefix' = $1 ORDER BY id`, [prefix]);
      expect(audit).toEqual([
        { kind: 'api_key_created', principal_id: ACTOR, auth_method: 'cli' },
        { kind: 'api_key_revoked', principal_id: ACTOR, auth_method: 'cli' },
      ]);
    });

    it('users: add with the password on stdin; passwd; disable; each takes effect on the running server', async () => {
      if (!available) return;
      const { server, url } = await serve(env);
      try {
        const added = await portico(env, ['users', 'add', 'carol', '--scopes', '*'], 'carol: first password\n');
        expect(added).toMatchObject({ code: 0, stdout: '' });
        expect(added.stderr).toBe('Added user carol (scopes: *)\n');
        expect(await status(url, basic('carol', 'carol: first password'))).toBe(200);

        expect((await portico(env, ['users', 'passwd', 'carol'], 'carol: second password\n')).code).toBe(0);
        expect(await status(url, basic('carol', 'carol: first password'))).toBe(401);
        expect(await status(url, basic('carol', 'carol: second password'))).toBe(200);

        expect((await portico(env, ['users', 'disable', 'carol'])).stderr).toBe('Disabled: carol\n');
        expect(await status(url, basic('carol', 'carol: second password'))).toBe(401);

        const list = await portico(env, ['users', 'list', '--json']);
        expect(JSON.parse(list.stdout)).toContainEqual(expect.objectContaining({ username: 'carol', source: 'database', scopes: ['*'], status: 'disabled' }));
        expect(list.stdout).not.toContain('scrypt:');

        const taken = await portico(env, ['users', 'add', 'carol'], 'another password\n');
        expect(taken).toMatchObject({ code: 1, stderr: 'portico users: user "carol" already exists\n' });
        const noPassword = await portico(env, ['users', 'add', 'dora']);
        expect(noPassword.code).toBe(1);
        expect(noPassword.stderr).toMatch(/no password on stdin/);
      } finally {
        await stop(server);
      }

      const audit = await pgQuery(db!.url, `SELECT kind, principal_id FROM audit_events WHERE kind LIKE 'user_%' AND detail->>'username' = 'carol' ORDER BY id`);
      expect(audit).toEqual([
        { kind: 'user_created', principal_id: ACTOR },
        { kind: 'user_changed', principal_id: ACTOR },
        { kind: 'user_disabled', principal_id: ACTOR },
      ]);
      const stored = JSON.stringify(await pgQuery(db!.url, `SELECT * FROM users`)) + JSON.stringify(await pgQuery(db!.url, `SELECT * FROM audit_events`));
      expect(stored).not.toContain('first password');
      expect(stored).not.toContain('second password');
    });
  });

  describe('on the embedded database', () => {
    it('works before the server starts and after it stops, and names the server holding the database meanwhile', async () => {
      const env = { DATA_DIR: tempDir(), DATABASE_URL: '', AUTH_TOKENS: 'ops:ops-static-token-0123456789' };
      const created = await portico(env, ['keys', 'create', '--name', 'script']);
      expect(created.code).toBe(0);
      const key = created.stdout.trim();
      expect(created.stderr).toContain('scopes: none, expires: never');

      const first = await serve(env);
      try {
        expect(await status(first.url, { 'X-API-Key': key })).toBe(200);
        const busy = await portico(env, ['keys', 'list']);
        expect(busy.code).toBe(1);
        expect(busy.stderr).toMatch(new RegExp(`in use by process ${first.server.child.pid}`));
      } finally {
        await stop(first.server);
      }

      expect((await portico(env, ['keys', 'revoke', key.slice(0, 12)])).code).toBe(0);
      const second = await serve(env);
      try {
        expect(await status(second.url, { 'X-API-Key': key })).toBe(401);
      } finally {
        await stop(second.server);
      }
    });
  });

  it('users hash reads the password from stdin and prints a hash AUTH_BASIC_USERS accepts', async () => {
    const hashed = await portico({ DATA_DIR: tempDir(), DATABASE_URL: '' }, ['users', 'hash'], 'env user: password\n');
    expect(hashed.code).toBe(0);
    const hash = hashed.stdout.trim();
    expect(hash).toMatch(/^scrypt:ln=15:r=8:p=3:/);
    await expect(verifyPasswordHash('env user: password', hash)).resolves.toBe(true);

    const env = { DATA_DIR: tempDir(), DATABASE_URL: '', AUTH_TOKENS: 'ops:ops-static-token-0123456789', AUTH_BASIC_USERS: `envuser:${hash}` };
    const { server, url } = await serve(env);
    try {
      expect(await status(url, basic('envuser', 'env user: password'))).toBe(200);
      expect(await status(url, basic('envuser', 'env user'))).toBe(401);
    } finally {
      await stop(server);
    }
  });

  it('answers a bad command line with its usage and exit code 2, and --help with exit code 0', async () => {
    const env = { DATA_DIR: tempDir(), DATABASE_URL: '' };
    const bad = await portico(env, ['keys', 'create', '--scopes', 'a']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^portico keys: keys create needs --name and nothing else\n\nUsage:\n {2}portico keys create/);
    const unknown = await portico(env, ['users', 'add', 'eve', '--password', 'on-the-command-line']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--password'/);
    const help = await portico(env, ['users', '--help']);
    expect(help).toMatchObject({ code: 0, stdout: '' });
    expect(help.stderr).toMatch(/^Usage:\n {2}portico users add <name>/);
  });
});

async function pgQuery(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}
