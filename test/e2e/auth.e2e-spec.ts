import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { getDataSourceToken } from '@nestjs/typeorm';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { hashPassword } from '../../src/auth/password-hash';
import { UsersService } from '../../src/auth/users.service';
import { queryDatabase } from '../support/database';
import { basic, bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { spawnPortico } from '../support/process';
import { ACCEPT, initialize } from '../support/raw-mcp';
import { NoteToolsModule } from '../support/scoped-tools';
import { tempDirs } from '../support/temp-dirs';

const ADMIN = { id: 'cli:e2e', authMethod: 'cli' };


type Era = 'modern' | 'legacy' | 'v1';

/** Connects the official client of `era` to `url` with `headers`. */
async function connect(url: string, headers: Record<string, string>, era: Era): Promise<Client | V1Client> {
  if (era === 'v1') {
    const client = new V1Client({ name: 'e2e-auth-v1', version: '1' });
    await client.connect(new V1Transport(new URL(url), { requestInit: { headers } }));
    return client;
  }
  const client = new Client({ name: `e2e-auth-${era}`, version: '1' }, era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {});
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

async function toolNames(client: Client | V1Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name);
}

function text(result: unknown): string {
  return ((result as { content: { text: string }[] }).content[0] as { text: string }).text;
}

/** A POST to /mcp whose response headers are read raw, as separate fields (fetch joins repeated ones). */
function rawPost(url: string, headers: Record<string, string>): Promise<{ status: number; rawHeaders: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...ACCEPT, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(initialize));
  });
}

const challengeFields = (rawHeaders: string[]) => rawHeaders.filter((_, i) => i % 2 === 1 && /^www-authenticate$/i.test(rawHeaders[i - 1]));

/**
 * API keys, Basic users, per-tool scopes and the brute-force lockout on the
 * real app, through the official clients and raw HTTP.
 */
describe('auth: API keys, Basic users, scopes, lockout', () => {
  // The suites may share one PostgreSQL: names are unique per run (auditRows reads this instance's rows only).
  const run = randomBytes(3).toString('hex');
  const names = { alice: `alice-${run}`, dave: `dave-${run}`, locked: `locked-${run}`, ops: `ops-${run}` };
  const ALICE_PASSWORD = 'alice:has a colon';
  const OPS_PASSWORD = 'ops password from env';
  let portico: TestPortico;
  let keys: ApiKeyService;
  const key: Record<'all' | 'reader' | 'revoked' | 'expired', string> = { all: '', reader: '', revoked: '', expired: '' };
  const prefix: Record<string, string> = {};

  /** The 401 challenges as fetch joins the two fields; OAuth is off here, so the Bearer one names no scope. */
  const challenges = (error?: string) =>
    `Bearer realm="Portico", ${error ? `error="${error}", ` : ''}resource_metadata="${new URL(portico.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp", Basic realm="Portico"`;
  const post = (headers: Record<string, string>) => fetch(portico.mcpUrl, { method: 'POST', headers: { ...ACCEPT, ...headers }, body: JSON.stringify(initialize) });

  beforeAll(async () => {
    portico = await bootPortico(
      {
        AUTH_MAX_FAILURES: '3',
        AUTH_LOCKOUT_SECONDS: '2',
        AUTH_MAX_FAILURES_PER_IP: '1000',
        AUTH_BASIC_USERS: `${names.ops}:${await hashPassword(OPS_PASSWORD)}`,
      },
      [NoteToolsModule],
    );
    keys = portico.app.get(ApiKeyService);
    const users = portico.app.get(UsersService);
    for (const [name, scopes] of [
      ['all', ['*']],
      ['reader', ['notes:read']],
      ['revoked', ['*']],
      ['expired', ['*']],
    ] as const) {
      const created = await keys.create({ name: `e2e ${name} ${run}`, scopes: [...scopes], expiresAt: name === 'expired' ? new Date(Date.now() + 60_000) : null }, ADMIN);
      key[name] = created.key;
      prefix[name] = created.record.prefix;
    }
    await keys.revoke(prefix.revoked, ADMIN);
    await portico.app.get<DataSource>(getDataSourceToken()).query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE prefix = $1`, [prefix.expired]);
    await users.add({ username: names.alice, password: ALICE_PASSWORD, scopes: ['notes:read'] }, ADMIN);
    await users.add({ username: names.dave, password: 'dave password', scopes: ['*'] }, ADMIN);
    await users.disable(names.dave, ADMIN);
    await users.add({ username: names.locked, password: 'the right password', scopes: [] }, ADMIN);
  });

  afterAll(async () => {
    await portico?.stop();
  });

  describe('API keys', () => {
    it('as Authorization: Bearer, in the modern era: lists and calls with the key\'s scopes', async () => {
      const client = await connect(portico.mcpUrl, bearer(key.all), 'modern');
      expect(await toolNames(client)).toEqual(expect.arrayContaining(['get_current_time', 'notes_read', 'notes_write']));
      expect(text(await client.callTool({ name: 'notes_write', arguments: { title: 'plan', text: 'ship it' } }))).toBe(`saved plan for e2e all ${run}`);
      await client.close();

      const calls = await portico.auditRows(`kind = 'tool_call' AND tool = 'notes_write'`);
      expect(calls).toEqual([expect.objectContaining({ principal_id: `key:${prefix.all}`, auth_method: 'api_key', outcome: 'ok' })]);
    });

    it('as X-API-Key, in a legacy session of the v1 client', async () => {
      const client = await connect(portico.mcpUrl, { 'X-API-Key': key.reader }, 'v1');
      expect(text(await client.callTool({ name: 'notes_read', arguments: { title: 'welcome' } }))).toBe('Hello from Portico');
      await client.close();
    });

    it.each([
      ['revoked', 'The API key has been revoked'],
      ['expired', 'The API key has expired'],
    ] as const)('refuses a %s key with 401 and both challenges, as Bearer and as X-API-Key', async (which, message) => {
      const asBearer = await post(bearer(key[which]));
      expect(asBearer.status).toBe(401);
      expect(asBearer.headers.get('www-authenticate')).toBe(challenges('invalid_token'));
      expect(await asBearer.json()).toMatchObject({ error: { message } });

      const asHeader = await post({ 'X-API-Key': key[which] });
      expect(asHeader.status).toBe(401);
      expect(asHeader.headers.get('www-authenticate')).toBe(challenges());

      const failures = await portico.auditRows(`kind = 'auth_failure' AND detail->>'account' = $1`, [`key:${prefix[which]}`]);
      expect(failures.map((r) => [r.auth_method, r.error_code])).toEqual([
        ['api_key', which],
        ['api_key', which],
      ]);
    });

    it('refuses a wrong key without echoing it', async () => {
      const wrong = `${prefix.reader}_${'A'.repeat(43)}`;
      const res = await post({ 'X-API-Key': wrong });
      expect(res.status).toBe(401);
      const body = await res.text();
      expect(body).toContain('The API key is not valid');
      expect(body).not.toContain(wrong);
    });
  });

  describe('per-tool scopes', () => {
    it.each(['modern', 'legacy', 'v1'] as const)('a key without notes:write neither sees nor calls notes_write (%s)', async (era) => {
      const client = await connect(portico.mcpUrl, bearer(key.reader), era);
      const names = await toolNames(client);
      expect(names).toContain('notes_read');
      expect(names).not.toContain('notes_write');

      await expect(client.callTool({ name: 'notes_write', arguments: { title: 'plan', text: 'ship it' } })).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining('Tool notes_write not found'),
      });
      await client.close();
    });

    it('the out-of-scope call is a JSON-RPC InvalidParams error on the wire, and nothing runs', async () => {
      const modern = { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'notes_write' };
      const res = await fetch(portico.mcpUrl, {
        method: 'POST',
        headers: { ...ACCEPT, ...bearer(key.reader), ...modern },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: {
            name: 'notes_write',
            arguments: { title: 'plan', text: 'ship it' },
            _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} },
          },
        }),
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain('"code":-32602');
      expect(body).toContain('Tool notes_write not found');
      expect(await portico.auditRows(`kind = 'tool_call' AND tool = 'notes_write' AND principal_id = $1`, [`key:${prefix.reader}`])).toEqual([]);
    });

    it('static AUTH_TOKENS keep every scope', async () => {
      const client = await connect(portico.mcpUrl, bearer(TOKENS.alice), 'modern');
      expect(await toolNames(client)).toEqual(expect.arrayContaining(['notes_read', 'notes_write']));
      await client.close();
    });
  });

  describe('HTTP Basic', () => {
    it('serves a database user with their scopes (a password with a colon included)', async () => {
      const client = await connect(portico.mcpUrl, basic(names.alice, ALICE_PASSWORD), 'legacy');
      const tools = await toolNames(client);
      expect(tools).toContain('notes_read');
      expect(tools).not.toContain('notes_write');
      expect(text(await client.callTool({ name: 'notes_read', arguments: { title: 'welcome' } }))).toBe('Hello from Portico');
      await client.close();

      const calls = await portico.auditRows(`kind = 'tool_call' AND principal_id = $1`, [`user:${names.alice}`]);
      expect(calls).toEqual([expect.objectContaining({ auth_method: 'basic', tool: 'notes_read' })]);
    });

    it('serves an AUTH_BASIC_USERS user with every scope', async () => {
      const client = await connect(portico.mcpUrl, basic(names.ops, OPS_PASSWORD), 'modern');
      expect(await toolNames(client)).toContain('notes_write');
      await client.close();
    });

    it('answers a wrong password with 401 and both challenges, as two header fields, Bearer first', async () => {
      const res = await rawPost(portico.mcpUrl, basic(names.alice, 'alice:wrong'));
      expect(res.status).toBe(401);
      expect(challengeFields(res.rawHeaders)).toEqual([
        `Bearer realm="Portico", resource_metadata="${new URL(portico.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp"`,
        'Basic realm="Portico"',
      ]);
    });

    it('answers no credential at all with 401 and both challenges, without auditing it', async () => {
      const res = await post({});
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(challenges());
      expect(await res.json()).toMatchObject({ error: { message: expect.stringMatching(/^Authentication required/) } });
      expect(await portico.auditRows(`kind = 'auth_failure' AND request_id = $1`, [res.headers.get('x-request-id')])).toEqual([]);
    });

    it('refuses a disabled user, saying so only for the right password', async () => {
      const right = await post(basic(names.dave, 'dave password'));
      expect(right.status).toBe(401);
      expect(await right.json()).toMatchObject({ error: { message: 'The user is disabled' } });

      const wrong = await post(basic(names.dave, 'not dave password'));
      expect(await wrong.json()).toMatchObject({ error: { message: 'The user name or password is not valid' } });
      const failures = await portico.auditRows(`kind = 'auth_failure' AND detail->>'account' = $1`, [`user:${names.dave}`]);
      expect(failures.map((r) => r.error_code)).toEqual(['disabled', 'bad_password']);
    });
  });

  describe('brute force', () => {
    it('answers the AUTH_MAX_FAILURES-th wrong password with 429 and Retry-After; the right one waits out the cool-down too', async () => {
      const wrong = ['guess-one-5d1c', 'guess-two-8a2f', 'guess-three-0b7e'];
      expect((await post(basic(names.locked, wrong[0]))).status).toBe(401);
      expect((await post(basic(names.locked, wrong[1]))).status).toBe(401);
      const third = await post(basic(names.locked, wrong[2]));
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('2');
      expect(await third.json()).toMatchObject({ error: { message: expect.stringMatching(/^Too many failed authentication attempts/) } });

      const right = await post(basic(names.locked, 'the right password'));
      expect(right.status).toBe(429);
      const retryAfter = Number(right.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(2);
      // Other users are not affected by this user's lockout.
      expect((await post(basic(names.alice, ALICE_PASSWORD))).status).toBe(200);

      await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
      expect((await post(basic(names.locked, 'the right password'))).status).toBe(200);

      const audit = await portico.auditRows(`kind IN ('auth_failure', 'auth_success') AND (detail->>'account' = $1 OR principal_id = $1)`, [`user:${names.locked}`]);
      expect(audit.map((r) => [r.kind, r.outcome, r.error_code])).toEqual([
        ['auth_failure', 'denied', 'bad_password'],
        ['auth_failure', 'denied', 'bad_password'],
        ['auth_failure', 'denied', 'bad_password'],
        ['auth_failure', 'locked', 'locked_out'],
        ['auth_success', 'ok', null],
      ]);
      expect(audit[2].detail).toEqual({ account: `user:${names.locked}`, reason: 'bad_password', lockout: { scope: 'account', subject: `user:${names.locked}`, retryAfterSeconds: 2 } });
      expect(audit.every((r) => r.client_ip === '127.0.0.1' || r.client_ip === '::ffff:127.0.0.1')).toBe(true);
      const stored = JSON.stringify(audit);
      for (const secret of [...wrong, 'the right password']) expect(stored).not.toContain(secret);
    });
  });

  it('audits a success once per principal and client IP, not once per request', async () => {
    for (let i = 0; i < 3; i++) expect((await post({ 'X-API-Key': key.all })).status).toBe(200);
    const successes = await portico.auditRows(`kind = 'auth_success' AND principal_id = $1`, [`key:${prefix.all}`]);
    expect(successes).toEqual([expect.objectContaining({ auth_method: 'api_key', outcome: 'ok' })]);
  });
});

/**
 * The built server as an operator runs it, its logs captured: wrong
 * passwords and tokens reach neither the logs nor the audit log, and the
 * per-IP lockout holds behind a proxy.
 */
describe('auth failures on the built server', () => {
  const tempDir = tempDirs('portico-auth-');

  it('locks a user and an IP, and never writes a presented secret to the logs or the audit log', async () => {
    const dataDir = tempDir();
    const user = `mallory-${randomBytes(3).toString('hex')}`;
    const password = 'mallory right password 7c1d';
    const guesses = ['mallory-guess-a1', 'mallory-guess-b2', 'mallory-guess-c3'];
    const token = 'ops-static-token-3e9a7f2c11';
    const wrongTokens = ['wrong-token-aaaa-1111', 'wrong-token-bbbb-2222', 'wrong-token-cccc-3333', 'wrong-token-dddd-4444'];
    const started = new Date();
    const server = spawnPortico({
      DATA_DIR: dataDir,
      PORT: '0',
      STATUS_PORT: '0',
      LOG_LEVEL: 'trace',
      TRUST_PROXY: '1',
      AUTH_TOKENS: `ops:${token}`,
      AUTH_BASIC_USERS: `${user}:${await hashPassword(password)}`,
      AUTH_MAX_FAILURES: '3',
      AUTH_MAX_FAILURES_PER_IP: '4',
      AUTH_LOCKOUT_SECONDS: '2',
    });
    try {
      const [, url] = await server.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/);
      const post = (headers: Record<string, string>, ip: string) =>
        fetch(url, { method: 'POST', headers: { ...ACCEPT, ...headers, 'X-Forwarded-For': ip }, body: JSON.stringify(initialize) });

      // One user, guessed at from three addresses.
      expect((await post(basic(user, guesses[0]), '198.51.100.1')).status).toBe(401);
      expect((await post(basic(user, guesses[1]), '198.51.100.2')).status).toBe(401);
      expect((await post(basic(user, guesses[2]), '198.51.100.3')).status).toBe(429);
      const locked = await post(basic(user, password), '198.51.100.4');
      expect(locked.status).toBe(429);
      await new Promise((r) => setTimeout(r, Number(locked.headers.get('retry-after')) * 1000 + 100));
      expect((await post(basic(user, password), '198.51.100.4')).status).toBe(200);

      // One address, guessing tokens: locked for every credential, other addresses unaffected.
      for (const [i, wrong] of wrongTokens.entries()) expect((await post(bearer(wrong), '203.0.113.9')).status).toBe(i < 3 ? 401 : 429);
      expect((await post(bearer(token), '203.0.113.9')).status).toBe(429);
      expect((await post(bearer(token), '203.0.113.10')).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }

    const logs = server.stderr();
    expect(logs).toMatch(new RegExp(`"account":"user:${user}","reason":"bad_password","ip":"198.51.100.1","msg":"authentication failed"`));
    expect(logs).toContain('"msg":"authentication failed: cool-down started"');
    for (const secret of [password, ...guesses, token, ...wrongTokens]) expect(logs).not.toContain(secret);

    const audit = await queryDatabase(
      dataDir,
      `SELECT kind, outcome, auth_method, error_code, client_ip, detail FROM audit_events
        WHERE kind IN ('auth_failure', 'auth_success') AND occurred_at >= $1
          AND client_ip IN ('198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4', '203.0.113.9', '203.0.113.10')
        ORDER BY id`,
      [started],
    );
    expect(audit.map((r) => [r.client_ip, r.kind, r.outcome, r.error_code])).toEqual([
      ['198.51.100.1', 'auth_failure', 'denied', 'bad_password'],
      ['198.51.100.2', 'auth_failure', 'denied', 'bad_password'],
      ['198.51.100.3', 'auth_failure', 'denied', 'bad_password'],
      ['198.51.100.4', 'auth_failure', 'locked', 'locked_out'],
      ['198.51.100.4', 'auth_success', 'ok', null],
      ['203.0.113.9', 'auth_failure', 'denied', 'unknown_token'],
      ['203.0.113.9', 'auth_failure', 'denied', 'unknown_token'],
      ['203.0.113.9', 'auth_failure', 'denied', 'unknown_token'],
      ['203.0.113.9', 'auth_failure', 'denied', 'unknown_token'],
      ['203.0.113.9', 'auth_failure', 'locked', 'locked_out'],
      ['203.0.113.10', 'auth_success', 'ok', null],
    ]);
    const stored = JSON.stringify(audit);
    for (const secret of [password, ...guesses, token, ...wrongTokens]) expect(stored).not.toContain(secret);
  });
});
