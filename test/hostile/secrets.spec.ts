import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/password-hash';
import { API_KEYS } from '../fakes/openproject/dataset';
import { AS_SECRET } from '../support/authorization-server';
import { FakeOpenProject } from '../fakes/openproject/fake-openproject';
import { childEnv, ROOT, type Spawned, spawnPortico } from '../support/process';
import { tempDirs } from '../support/temp-dirs';
import { send } from './raw-http';

const run = randomBytes(6).toString('hex');

/** Every secret this Portico knows, unique to this run: a hit anywhere below is this run's leak. */
const SECRETS = {
  aliceToken: `alice-tok-${run}-0123456789abcdef`,
  bobToken: `bob-tok-${run}-0123456789abcdef`,
  basicPassword: `basic-pw-${run}-correct horse`,
  adminToken: `admin-tok-${run}-0123456789abcdef`,
  metricsToken: `metrics-tok-${run}-0123456789abcdef`,
  // Shared by every test app: on a shared PostgreSQL each must decrypt the keys another stored.
  oauthServerSecret: AS_SECRET,
  requestStateKey: `request-state-key-${run}-0123456789abcdefghij`,
  openProjectKey: API_KEYS.alice,
  apiKey: '', // made by `portico keys create` below
};
const BASIC_USER = `ops-${run}`;

/**
 * Known secrets never appear in logs, responses or audit rows: the real
 * binary booted with every kind of secret at LOG_LEVEL=trace, driven through
 * successful and failing flows (wrong passwords and keys, tokens in query
 * strings, secrets in headers where they do not belong, tool calls with
 * secret-looking arguments); then its stderr, every response head and body
 * and the audit rows are searched for each secret (and the Basic
 * credentials' base64 form).
 */
describe('secrets never reach logs, responses or audit rows', () => {
  const tempDir = tempDirs('portico-secrets-');
  const fake = new FakeOpenProject();
  let portico: Spawned;
  let mcp: string;
  let status: string;
  const seen: string[] = [];
  let auditText = '';
  const startedAt = new Date(Date.now() - 1000).toISOString();

  beforeAll(async () => {
    const dataDir = tempDir();
    const env = {
      DATA_DIR: dataDir,
      PORT: '0',
      STATUS_PORT: '0',
      LOG_LEVEL: 'trace',
      AUTH_TOKENS: `alice:${SECRETS.aliceToken},bob:${SECRETS.bobToken}`,
      AUTH_BASIC_USERS: `${BASIC_USER}:${await hashPassword(SECRETS.basicPassword, { ln: 10, r: 8, p: 1 })}`,
      AUTH_MAX_FAILURES: '1000',
      AUTH_MAX_FAILURES_PER_IP: '1000',
      STATUS_ADMIN_TOKEN: SECRETS.adminToken,
      METRICS_TOKEN: SECRETS.metricsToken,
      OAUTH_SERVER: 'builtin',
      OAUTH_SERVER_SECRET: SECRETS.oauthServerSecret,
      REQUEST_STATE_KEY: SECRETS.requestStateKey,
      PORTICO_CONFORMANCE_FIXTURES: 'true',
      OPENPROJECT_URL: await fake.start(),
      OPENPROJECT_API_KEY: SECRETS.openProjectKey,
    };
    // An API key, made as an operator does; stdout has the key, stderr the notes (checked too).
    SECRETS.apiKey = execFileSync(process.execPath, [join(ROOT, 'dist/src/cli/portico.js'), 'keys', 'create', '--name', `secrets-${run}`, '--scopes', '*'], {
      env: childEnv(env),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    expect(SECRETS.apiKey).toMatch(/^ptk_/);
    portico = spawnPortico(env);
    const [, mcpUrl] = await portico.waitFor(/"mcpUrl":"(http:\/\/[^"]+)"/);
    const [, statusUrl] = await portico.waitFor(/"statusUrl":"(http:\/\/[^"]+)"/);
    mcp = new URL(mcpUrl).origin;
    status = statusUrl;
    await drive();
    // The audit rows of this run, through the operator's API.
    const audit = await send(status, { method: 'GET', path: `/audit?from=${encodeURIComponent(startedAt)}&format=ndjson`, headers: { Authorization: `Bearer ${SECRETS.adminToken}` } }, 30_000);
    expect(audit.status).toBe(200);
    auditText = audit.body;
  }, 120_000);

  afterAll(async () => {
    portico?.child.kill('SIGTERM');
    await portico?.exited;
    await fake.stop();
  });

  /** Sends a request, keeping its whole answer (status line, headers, body) for the search. */
  async function call(origin: string, path: string, headers: Record<string, string>, body?: unknown, method = body === undefined ? 'GET' : 'POST') {
    const res = await send(origin, { method, path, headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) }, 5000);
    // The answer only: the request line carries the query-string tokens this test sends on purpose.
    seen.push(`${res.head}\n\n${res.body}`);
    return res;
  }

  const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
  const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
  const modern = { 'MCP-Protocol-Version': '2026-07-28' };
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } };
  /** A modern tools/call, its headers matching its body. */
  const callTool = (auth: Record<string, string>, name: string, args: unknown, extra: Record<string, unknown> = {}) =>
    call(mcp, '/mcp', { ...auth, ...modern, 'Mcp-Method': 'tools/call', 'Mcp-Name': name }, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, ...extra, _meta: meta } });
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'secrets', version: '1' } } };

  async function drive() {
    const mustWork: [string, number][] = [];
    const expectStatus = async (what: string, p: Promise<{ status: number; body: string }>, status: number) => {
      const res = await p;
      // A 200 must be a success, not a JSON-RPC error in a 200.
      const ok = res.status === status && (status !== 200 || !/"error":\{"code"/.test(res.body));
      mustWork.push([what, ok ? status : -res.status]);
    };
    // Success with each credential kind, both eras.
    for (const [kind, auth] of [['bearer', bearer(SECRETS.aliceToken)], ['basic', basic(BASIC_USER, SECRETS.basicPassword)], ['api key', bearer(SECRETS.apiKey)]] as const) {
      await expectStatus(`${kind} legacy initialize`, call(mcp, '/mcp', auth, initialize), 200);
      await expectStatus(`${kind} modern tools/list`, call(mcp, '/mcp', { ...auth, ...modern, 'Mcp-Method': 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta } }), 200);
      await expectStatus(`${kind} time tool`, callTool(auth, 'get_current_time', { timezone: 'UTC' }), 200);
    }
    // OpenProject with the service key, and a requestState round (signed with REQUEST_STATE_KEY).
    await expectStatus('openproject tool', callTool(bearer(SECRETS.aliceToken), 'openproject_list_projects', {}), 200);
    const round = await callTool(bearer(SECRETS.aliceToken), 'test_input_required_result_request_state', {});
    const state = /"requestState":"([^"]+)"/.exec(round.body)?.[1];
    expect({ state: Boolean(state), body: state ? '' : round.body.slice(0, 500) }).toEqual({ state: true, body: '' });
    await callTool(bearer(SECRETS.aliceToken), 'test_input_required_result_request_state', {}, { requestState: `${state}x`, inputResponses: {} });
    // Tool calls with secret-looking arguments: redacted in the audit, never echoed.
    const secretArgs = { password: SECRETS.basicPassword, token: SECRETS.bobToken, api_key: SECRETS.apiKey, authorization: `Bearer ${SECRETS.adminToken}`, client_secret: SECRETS.oauthServerSecret };
    await callTool(bearer(SECRETS.aliceToken), 'get_current_time', { timezone: 'UTC', ...secretArgs });
    await callTool(bearer(SECRETS.aliceToken), 'get_current_time', { timezone: 42, ...secretArgs });
    await callTool(bearer(SECRETS.aliceToken), 'no_such_tool', secretArgs);
    await callTool(bearer(SECRETS.aliceToken), 'openproject_list_projects', { query: 'x', ...secretArgs });
    // Status port with its tokens.
    await expectStatus('status full view', call(status, '/status', bearer(SECRETS.adminToken)), 200);
    await expectStatus('metrics', call(status, '/metrics', bearer(SECRETS.metricsToken)), 200);
    await expectStatus('sessions', call(status, '/status/sessions', bearer(SECRETS.adminToken)), 200);
    // The authorization server: metadata, a registration, a token request with a wrong client secret.
    await call(mcp, '/.well-known/oauth-authorization-server', {});
    await call(mcp, '/oauth/jwks', {});
    await call(mcp, '/oauth/register', {}, { redirect_uris: ['http://127.0.0.1:9/callback'], client_name: 'secrets' });
    await call(mcp, '/oauth/token', { 'Content-Type': 'application/x-www-form-urlencoded', ...basic('nobody', SECRETS.oauthServerSecret) }, 'grant_type=client_credentials');

    // Failures: wrong passwords and keys, secrets where they do not belong.
    const failures: [string, Record<string, string>][] = [
      ['wrong Basic password', basic(BASIC_USER, `${SECRETS.basicPassword}x`)],
      ['Basic password for another user', basic('nobody', SECRETS.basicPassword)],
      ['password as a bearer token', bearer(SECRETS.basicPassword)],
      ['API key one character off', bearer(`${SECRETS.apiKey.slice(0, -1)}${SECRETS.apiKey.endsWith('A') ? 'B' : 'A'}`)],
      ['admin token on /mcp', bearer(SECRETS.adminToken)],
      ['metrics token on /mcp', bearer(SECRETS.metricsToken)],
      ['OpenProject key on /mcp', bearer(SECRETS.openProjectKey)],
      ['OAuth server secret on /mcp', bearer(SECRETS.oauthServerSecret)],
      ['token with the wrong scheme', { Authorization: `Token ${SECRETS.aliceToken}` }],
      ['token in the Basic scheme', { Authorization: `Basic ${SECRETS.aliceToken}` }],
    ];
    for (const [what, headers] of failures) await expectStatus(what, call(mcp, '/mcp', headers, initialize), 401);
    for (const [name, value] of [['access_token', SECRETS.aliceToken], ['api_key', SECRETS.apiKey], ['token', SECRETS.bobToken]]) {
      await expectStatus(`?${name}= on /mcp`, call(mcp, `/mcp?${name}=${encodeURIComponent(value)}`, {}, initialize), 401);
    }
    await expectStatus('?access_token= on /audit', call(status, `/audit?access_token=${SECRETS.adminToken}`, {}), 401);
    await expectStatus('?token= on /metrics', call(status, `/metrics?token=${SECRETS.metricsToken}`, {}), 401);
    await expectStatus('MCP token on /audit', call(status, '/audit', bearer(SECRETS.aliceToken)), 401);
    // Secrets in headers and paths that might be echoed or logged.
    await call(mcp, '/mcp', { ...bearer(SECRETS.aliceToken), 'Mcp-Session-Id': SECRETS.bobToken, 'MCP-Protocol-Version': '2025-11-25' }, { jsonrpc: '2.0', id: 3, method: 'tools/list' });
    // (Not X-Request-Id nor the path: a client's correlation id and path are echoed and logged as sent, by design.)
    await call(mcp, `/nowhere?access_token=${encodeURIComponent(SECRETS.adminToken)}&client_secret=${encodeURIComponent(SECRETS.oauthServerSecret)}`, {});
    await call(status, `/nowhere?token=${encodeURIComponent(SECRETS.metricsToken)}`, {});
    await call(mcp, `/oauth/token?client_secret=${encodeURIComponent(SECRETS.oauthServerSecret)}`, { 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=client_credentials&client_id=nobody');
    await call(mcp, '/mcp', { ...bearer(SECRETS.aliceToken), Origin: 'https://evil.example.com', Cookie: `session=${SECRETS.bobToken}` }, initialize);
    await call(mcp, '/mcp', bearer(SECRETS.aliceToken), `{"jsonrpc":"2.0","id":"${SECRETS.adminToken}",`);
    expect(mustWork.filter(([, s]) => s < 0)).toEqual([]);
    // Let the audit writer flush its batch.
    await new Promise((r) => setTimeout(r, 1500));
  }

  /** Each secret and the forms it travels in: as is, URL-encoded, and the Basic credentials in base64. */
  function forms(): [string, string][] {
    const out: [string, string][] = [];
    for (const [name, value] of Object.entries(SECRETS)) {
      out.push([name, value], [`${name} (URL-encoded)`, encodeURIComponent(value)]);
    }
    out.push(['Basic credentials (base64)', Buffer.from(`${BASIC_USER}:${SECRETS.basicPassword}`).toString('base64')]);
    out.push(['Basic credentials, wrong password (base64)', Buffer.from(`${BASIC_USER}:${SECRETS.basicPassword}x`).toString('base64')]);
    return out;
  }

  it('drove enough traffic and collected logs, responses and audit rows', () => {
    expect(seen.length).toBeGreaterThan(40);
    expect(portico.stderr()).toMatch(/"msg":"request completed"/);
    expect(auditText).toMatch(/"kind":"auth_failure"/);
    expect(auditText).toMatch(/"kind":"tool_call"/);
    // The redaction is really exercised: a secret-looking argument shows up redacted.
    expect(auditText).toContain('[redacted]');
  });

  it.each([
    ['logs (stderr)', () => portico.stderr() + portico.stdout()],
    ['responses (status lines, headers, bodies)', () => seen.join('\n')],
    ['audit rows', () => auditText],
  ])('no secret in the %s', (_what, text) => {
    const haystack = text();
    // Each leak with the text around its first occurrence, to find where it came from.
    const leaks = forms()
      .filter(([, value]) => value.length >= 16 && haystack.includes(value))
      .map(([name, value]) => `${name}: …${haystack.slice(Math.max(0, haystack.indexOf(value) - 300), haystack.indexOf(value) + value.length + 60)}…`);
    expect(leaks).toEqual([]);
  });

  it('the search finds a secret where there is one (the check can fail)', () => {
    const planted = `${seen[0]}\n${SECRETS.apiKey}`;
    expect(forms().filter(([, value]) => planted.includes(value)).map(([name]) => name)).toContain('apiKey');
  });
});
