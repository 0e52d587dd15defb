import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { auth, Client, refreshAuthorization, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { getDataSourceToken } from '@nestjs/typeorm';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { DataSource } from 'typeorm';
import { GrantsService } from '../../src/authorization-server/grants.service';
import { AuthorizationServerService } from '../../src/authorization-server/authorization-server.service';
import { KeyStoreService } from '../../src/authorization-server/key-store.service';
import { approveInBrowser, builtinEnv, CimdServer, MemoryOAuthClient } from '../support/authorization-server';
import { TestBrowser } from '../support/oauth-browser';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { ACCEPT, initialize } from '../support/raw-mcp';
import { NoteToolsModule } from '../support/scoped-tools';

const GRACE_SECONDS = 2;
const DataSourceToken = getDataSourceToken();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The built-in authorization server (OAUTH_SERVER=builtin) end to end, with the
 * official v2 client's OAuth support: dynamic registration and a Client ID
 * Metadata Document served on 127.0.0.1, sign-in and consent driven like a
 * browser, then tools/call with the token, refresh with rotation and its grace
 * window, reuse detection, and revocation.
 */
describe('built-in authorization server', () => {
  let cimd: CimdServer;
  let portico: TestPortico;
  let issuer: string;
  let mcpUrl: string;

  beforeAll(async () => {
    cimd = await CimdServer.start();
    portico = await bootPortico(
      builtinEnv({ OAUTH_SERVER_REFRESH_GRACE_SECONDS: String(GRACE_SECONDS), OAUTH_SERVER_RATE_LIMITS: 'login=3/600' }),
      [NoteToolsModule, cimd.module()],
    );
    mcpUrl = portico.mcpUrl;
    issuer = new URL(mcpUrl).origin;
  });

  afterAll(async () => {
    await portico?.stop();
    await cimd?.stop();
  });

  const connect = async (provider: MemoryOAuthClient) => {
    const client = new Client({ name: 'e2e-builtin-as', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    await client.connect(transport);
    return { client, transport };
  };

  /** Connects, which fails with 401 and an authorization redirect; signs in and approves; finishes; connects again. */
  const authorize = async (provider: MemoryOAuthClient, browser = new TestBrowser()) => {
    const first = await connect(provider).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UnauthorizedError);
    const authorizeUrl = provider.authorizationUrl!;
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${issuer}/oauth/authorize`);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('resource')).toBe(mcpUrl);
    const { callback, pages } = await approveInBrowser(browser, authorizeUrl.href, provider.redirectUrl, TOKENS.alice);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    await transport.finishAuth(callback.searchParams);
    return { pages, browser };
  };

  const rawCall = (token: string) => fetch(mcpUrl, { method: 'POST', headers: { ...ACCEPT, ...bearer(token) }, body: JSON.stringify(initialize) });

  it('publishes RFC 8414 metadata with the issuer, S256 only, DCR, CIMD and public clients; the resource points at it', async () => {
    const res = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const metadata = await res.json();
    expect(metadata).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      registration_endpoint: `${issuer}/oauth/register`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      jwks_uri: `${issuer}/oauth/jwks`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    });
    expect(metadata.token_endpoint_auth_methods_supported).toContain('none');
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    const prm = await (await fetch(`${issuer}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm.authorization_servers).toEqual([issuer]);
    const jwks = await (await fetch(`${issuer}/oauth/jwks`)).json();
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
  });

  it('(a) dynamic registration: sign-in, consent, tools/call; refresh rotates with a grace window; reuse after it revokes the grant', async () => {
    const redirect = 'http://127.0.0.1:49152/callback';
    const provider = new MemoryOAuthClient(redirect, {
      client_name: 'Portico e2e DCR client',
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'notes:read notes:write',
    });
    const { pages } = await authorize(provider);
    expect(pages.map((p) => p.body.includes('Sign in to Portico') ? 'login' : 'consent')).toEqual(['login', 'consent']);
    expect(pages[1].body).toContain('Portico e2e DCR client');
    expect(pages[1].body).toContain(redirect);
    expect(provider.information).toMatchObject({ client_id: expect.any(String) });

    const first = provider.tokens()!;
    expect(decodeProtectedHeader(first.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(decodeJwt(first.access_token)).toMatchObject({ iss: issuer, aud: mcpUrl, sub: 'token:alice', client_id: provider.information!.client_id, scope: 'mcp net:fetch net:probe notes:read notes:write' });
    expect(first.refresh_token).toEqual(expect.any(String));

    const { client } = await connect(provider);
    expect(await client.callTool({ name: 'notes_read', arguments: { title: 'welcome' } })).toMatchObject({ content: [{ text: 'Hello from Portico' }] });
    expect(await client.callTool({ name: 'notes_write', arguments: { title: 't', text: 'x' } })).toMatchObject({ content: [{ text: 'saved t for token:alice' }] });
    await client.close();

    // Refresh: a new pair, the same audience.
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe('AUTHORIZED');
    const second = provider.tokens()!;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).aud).toBe(mcpUrl);
    expect((await rawCall(second.access_token)).status).toBe(200);

    // A retry with the old refresh token within the grace window still works (the first response may have been lost)...
    const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
    const retry = await refreshAuthorization(issuer, { metadata, clientInformation: provider.information!, refreshToken: first.refresh_token!, resource: new URL(mcpUrl) });
    expect(retry.access_token).toEqual(expect.any(String));

    // ...after it, the old refresh token is refused, and taken as stolen: the whole grant is revoked.
    await sleep(GRACE_SECONDS * 1000 + 500);
    await expect(
      refreshAuthorization(issuer, { metadata, clientInformation: provider.information!, refreshToken: first.refresh_token!, resource: new URL(mcpUrl) }),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
    const refused = await rawCall(second.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const rows = await portico.auditRows(`kind IN ('consent_given', 'consent_revoked', 'oauth_client_registered') AND detail->>'clientId' = $1`, [provider.information!.client_id]);
    expect(rows.map((r) => [r.kind, r.outcome])).toEqual([
      ['oauth_client_registered', 'ok'],
      ['consent_given', 'ok'],
      ['consent_revoked', 'ok'],
    ]);
    expect(rows[2].detail).toMatchObject({ via: 'refresh_token_reuse' });
    const failures = await portico.auditRows(`kind = 'auth_failure' AND error_code = 'revoked'`);
    expect(failures.length).toBeGreaterThanOrEqual(1);
  });

  it('(b) Client ID Metadata Document on 127.0.0.1: loopback redirect on any port, remembered consent, revocation ends the next call', async () => {
    const clientId = cimd.publish('/clients/e2e.json', {
      client_name: 'Portico e2e CIMD client',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const redirect = 'http://127.0.0.1:61234/callback';
    const provider = new MemoryOAuthClient(redirect, { client_name: 'Portico e2e CIMD client', redirect_uris: [redirect] }, clientId);
    const browser = new TestBrowser();
    const { pages } = await authorize(provider, browser);
    expect(pages).toHaveLength(2);
    expect(provider.information?.client_id ?? decodeJwt(provider.tokens()!.access_token).client_id).toBe(clientId);
    expect(decodeJwt(provider.tokens()!.access_token)).toMatchObject({ client_id: clientId, aud: mcpUrl });

    const { client } = await connect(provider);
    expect(await client.callTool({ name: 'notes_read', arguments: { title: 'welcome' } })).toMatchObject({ content: [{ text: 'Hello from Portico' }] });
    await client.close();
    const fetchesAfterFirst = cimd.fetches;
    expect(fetchesAfterFirst).toBeGreaterThanOrEqual(1);

    // Consent is remembered for this account and client: a second authorization in the same browser skips both pages.
    provider.stored = undefined;
    const again = await authorize(provider, browser);
    expect(again.pages).toEqual([]);
    expect(cimd.fetches).toBe(fetchesAfterFirst);

    // Revocation (RFC 7009) of the refresh token revokes the grant: the next call is refused.
    const tokens = provider.tokens()!;
    expect((await rawCall(tokens.access_token)).status).toBe(200);
    const revoked = await fetch(`${issuer}/oauth/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: clientId }),
    });
    expect(revoked.status).toBe(200);
    const next = await rawCall(tokens.access_token);
    expect(next.status).toBe(401);
    // The client's refresh fails as well (the grant is gone): it has to ask the user again.
    await expect(connect(provider)).rejects.toThrow();
  });

  it('refuses an unregistered redirect URI, a missing or plain PKCE, and a foreign resource', async () => {
    const reg = await fetch(`${issuer}/oauth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'strict', redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] }),
    });
    expect(reg.status).toBe(201);
    const registered = await reg.json();
    expect(registered).toMatchObject({ token_endpoint_auth_method: 'none', registration_client_uri: expect.stringContaining('/oauth/register/') });
    expect(registered).not.toHaveProperty('client_secret');
    const base = {
      client_id: registered.client_id,
      response_type: 'code',
      state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: mcpUrl,
    };
    const authorizeWith = async (params: Record<string, string | undefined>) => {
      const query = new URLSearchParams(Object.entries({ ...base, ...params }).filter(([, v]) => v !== undefined) as [string, string][]);
      return fetch(`${issuer}/oauth/authorize?${query}`, { redirect: 'manual' });
    };
    const wrong = await authorizeWith({ redirect_uri: 'https://evil.example.com/callback' });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get('location')).toBeNull();
    expect(wrong.headers.get('x-frame-options')).toBe('DENY');

    const claudeCom = await authorizeWith({ redirect_uri: 'https://claude.com/api/mcp/auth_callback' });
    expect(claudeCom.status).toBe(303);
    expect(claudeCom.headers.get('location')).toMatch(/\/interaction\//);

    for (const [params, error] of [
      [{ redirect_uri: 'https://claude.ai/api/mcp/auth_callback', code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
      [{ redirect_uri: 'https://claude.ai/api/mcp/auth_callback', code_challenge_method: 'plain' }, 'invalid_request'],
      [{ redirect_uri: 'https://claude.ai/api/mcp/auth_callback', resource: 'https://other.example.com/mcp' }, 'invalid_target'],
    ] as const) {
      const res = await authorizeWith(params);
      expect(res.status).toBe(303);
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe(error);
    }
  });

  /** Registers a public client, signs in and approves with fetch and a cookie jar, and redeems the code. */
  const obtainTokens = async (name: string) => {
    const redirect = 'http://127.0.0.1:40000/cb';
    const reg = await (
      await fetch(`${issuer}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_name: name, redirect_uris: [redirect] }) })
    ).json();
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: reg.client_id,
      response_type: 'code',
      redirect_uri: redirect,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: mcpUrl,
    });
    const { callback } = await approveInBrowser(new TestBrowser(), `${issuer}/oauth/authorize?${query}`, redirect, TOKENS.alice);
    const res = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirect, code_verifier: verifier, client_id: reg.client_id }),
    });
    expect(res.status).toBe(200);
    const tokens = await res.json();
    return { clientId: reg.client_id as string, accessToken: tokens.access_token as string, grantId: decodeJwt(tokens.access_token).grant_id as string };
  };

  it('an administrator lists and revokes a consent (portico oauth grants / revoke): its tokens stop at once', async () => {
    const { clientId, accessToken, grantId } = await obtainTokens('Admin Revocation Client');
    expect((await rawCall(accessToken)).status).toBe(200);
    const grants = portico.app.get(GrantsService);
    expect(await grants.list('token:alice')).toContainEqual(
      expect.objectContaining({ grantId, accountId: 'token:alice', clientId, clientName: 'Admin Revocation Client', scopes: ['mcp', 'net:fetch', 'net:probe', 'notes:read', 'notes:write'] }),
    );

    expect(await grants.revoke(grantId, { id: 'cli:ops', authMethod: 'cli' })).toBe(true);
    expect(await grants.revoke(grantId, { id: 'cli:ops', authMethod: 'cli' })).toBe(false);
    expect((await rawCall(accessToken)).status).toBe(401);
    expect(await portico.auditRows(`kind = 'consent_revoked' AND detail->>'grantId' = $1`, [grantId])).toEqual([
      expect.objectContaining({ principal_id: 'cli:ops', auth_method: 'cli', detail: expect.objectContaining({ clientId, via: 'admin' }) }),
    ]);
  });

  it('rotates its signing key: the next one is published first, then signs; tokens of the previous one stay valid', async () => {
    const before = await obtainTokens('Rotation Client');
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    const newKid = await portico.app.get(KeyStoreService).rotateNow();
    const server = portico.app.get(AuthorizationServerService);
    await server.reloadKeys();
    const published = (await (await fetch(`${issuer}/oauth/jwks`)).json()).keys.map((k: { kid: string }) => k.kid);
    expect(published).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(decodeProtectedHeader((await obtainTokens('Rotation Client 2')).accessToken).kid).toBe(oldKid);

    // Five minutes later (the publication lead), the new key signs.
    await portico.app.get<DataSource>(DataSourceToken).query(`UPDATE oauth_server_keys SET active_from = now() - interval '1 second' WHERE kid = $1`, [newKid]);
    await server.reloadKeys();
    const after = await obtainTokens('Rotation Client 3');
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(newKid);
    expect((await rawCall(after.accessToken)).status).toBe(200);
    expect((await rawCall(before.accessToken)).status).toBe(200);
  });

  it('rate-limits failed sign-ins per client IP, and audits them without the secret', async () => {
    const started = new Date();
    const reg = await (
      await fetch(`${issuer}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:40001/cb'] }) })
    ).json();
    const query = new URLSearchParams({ client_id: reg.client_id, response_type: 'code', redirect_uri: 'http://127.0.0.1:40001/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const browser = new TestBrowser();
    let { page } = await browser.go(`${issuer}/oauth/authorize?${query}`, 'http://127.0.0.1:40001/cb');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await browser.submit(page!, 'login', { method: 'key', key: `wrong-key-${i}-0123456789abcdef` }, 'http://127.0.0.1:40001/cb');
      statuses.push(result.page!.status);
      if (result.page!.status === 401) page = result.page;
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Even the right key waits out the window.
    expect((await browser.submit(page!, 'login', { method: 'key', key: TOKENS.alice }, 'http://127.0.0.1:40001/cb')).page!.status).toBe(429);
    const rows = await portico.auditRows(`kind = 'auth_failure' AND auth_method = 'oauth_login' AND occurred_at >= $1`, [started]);
    expect(rows.filter((r) => r.error_code === 'unknown_token' && (r.detail as { clientId?: string }).clientId === reg.client_id)).toHaveLength(3);
    expect(rows.some((r) => r.outcome === 'locked')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('wrong-key-');
  });

  it('keeps static tokens working beside it', async () => {
    expect((await rawCall(TOKENS.bob)).status).toBe(200);
  });
});

/** A GET with a Host header of our choosing (fetch does not allow setting it), as a reverse proxy sends it. */
function proxiedGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('built-in authorization server behind a TLS proxy', () => {
  let portico: TestPortico;
  const proxy = { host: 'mcp.example.com', 'x-forwarded-proto': 'https' };

  beforeAll(async () => {
    portico = await bootPortico(builtinEnv({ PUBLIC_BASE_URL: 'https://mcp.example.com', TRUST_PROXY: '1', ALLOWED_HOSTS: 'mcp.example.com' }));
  });
  afterAll(() => portico?.stop());

  it('names the public https URLs in its metadata and marks its cookies Secure', async () => {
    const base = new URL(portico.mcpUrl).origin;
    const metadata = await proxiedGet(`${base}/.well-known/oauth-authorization-server`, proxy);
    expect(JSON.parse(metadata.body)).toMatchObject({
      issuer: 'https://mcp.example.com',
      authorization_endpoint: 'https://mcp.example.com/oauth/authorize',
      token_endpoint: 'https://mcp.example.com/oauth/token',
      registration_endpoint: 'https://mcp.example.com/oauth/register',
    });
    const prm = JSON.parse((await proxiedGet(`${base}/.well-known/oauth-protected-resource/mcp`, proxy)).body);
    expect(prm).toMatchObject({ resource: 'https://mcp.example.com/mcp', authorization_servers: ['https://mcp.example.com'] });

    const reg = await fetch(`${base}/oauth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] }),
    });
    const { client_id: clientId } = await reg.json();
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: 'https://claude.ai/api/mcp/auth_callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: 'https://mcp.example.com/mcp',
    });
    const authorize = await proxiedGet(`${base}/oauth/authorize?${query}`, proxy);
    expect(authorize.status).toBe(303);
    const cookies = authorize.headers['set-cookie'] as string[];
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie).toMatch(/; secure; httponly$/);
  });
});
