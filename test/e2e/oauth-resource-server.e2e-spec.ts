import { Client, InsufficientScopeError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { NoteToolsModule } from '../support/scoped-tools';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { ACCEPT, initialize, LEGACY } from '../support/raw-mcp';
import { TestIdp } from '../support/test-idp';

/** What each response said about auth, as the client's fetch saw it. */
interface Seen {
  status: number;
  wwwAuthenticate: string | null;
}

/**
 * Portico as the resource server of an external identity provider, configured
 * by environment alone: a JWKS served by the test on 127.0.0.1, tokens minted
 * as the IdP would, driven through raw HTTP and the official v2 client in both
 * protocol eras.
 */
describe('OAuth resource server with an external IdP', () => {
  let idp: TestIdp;
  let portico: TestPortico;
  let resource: string;
  let metadataUrl: string;
  let challengeScope: string;

  beforeAll(async () => {
    idp = await TestIdp.start();
    portico = await bootPortico({ OAUTH_ISSUERS: idp.issuer, OAUTH_JWKS_URL: idp.jwksUrl }, [NoteToolsModule]);
    resource = portico.mcpUrl;
    metadataUrl = `${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp`;
    // Every scope a tool declares: the built-in network tools' and the test module's.
    challengeScope = 'net:fetch net:probe notes:read notes:write';
  });

  afterAll(async () => {
    await portico?.stop();
    await idp?.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) => fetch(resource, { method: 'POST', headers: { ...ACCEPT, ...headers }, body: JSON.stringify(body) });

  /** A v2 client transport presenting `token()`, recording every response's status and challenge. */
  function transport(token: () => Promise<string>, onUnauthorized?: () => Promise<void>) {
    const seen: Seen[] = [];
    const t = new StreamableHTTPClientTransport(new URL(resource), {
      authProvider: { token, onUnauthorized },
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        seen.push({ status: res.status, wwwAuthenticate: res.headers.get('www-authenticate') });
        return res;
      },
    });
    return { transport: t, seen };
  }

  const modern = () => new Client({ name: 'e2e-oauth-modern', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  const legacy = () => new Client({ name: 'e2e-oauth-legacy', version: '1.0.0' });

  describe('discovery', () => {
    it('serves the same protected-resource metadata at both well-known paths, without auth', async () => {
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
        const res = await fetch(new URL(path, resource));
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await res.json()).toEqual({
          resource,
          authorization_servers: [idp.issuer],
          scopes_supported: ['net:fetch', 'net:probe', 'notes:read', 'notes:write'],
          bearer_methods_supported: ['header'],
          resource_name: 'Portico',
        });
      }
      expect((await fetch(new URL('/.well-known/oauth-protected-resource/other', resource))).status).toBe(404);
    });

    it('answers a request without a token with 401 pointing at the metadata and the scopes to request', async () => {
      const res = await post(initialize);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="Portico", resource_metadata="${metadataUrl}", scope="${challengeScope}", Basic realm="Portico"`);
    });
  });

  describe('refused tokens: 401 invalid_token, audited with the reason and never the token', () => {
    const now = () => Math.floor(Date.now() / 1000);
    it.each([
      ['a token for another audience', 'wrong_audience', () => idp.mint('https://other.example.com/mcp', { sub: 'aud-test' })],
      ['a token from another issuer', 'wrong_issuer', () => idp.mint(resource, { iss: 'https://evil.example.com', sub: 'iss-test' })],
      ['an expired token', 'expired', () => idp.mint(resource, { sub: 'exp-test', exp: now() - 120 })],
      ['a forged ES256 signature', 'bad_signature', () => idp.mint(resource, { sub: 'sig-test-es' }, { forged: true })],
      ['a forged RS256 signature', 'bad_signature', () => idp.mint(resource, { sub: 'sig-test-rs' }, { alg: 'RS256', forged: true })],
    ])('%s', async (_, reason, mint) => {
      const token = await mint();
      const before = new Date();

      const res = await post(initialize, bearer(token));

      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="Portico", error="invalid_token", resource_metadata="${metadataUrl}", scope="${challengeScope}", Basic realm="Portico"`,
      );
      expect(await res.text()).not.toContain(token);
      const rows = await portico.auditRows(`kind = 'auth_failure' AND occurred_at >= $1 AND error_code = $2`, [before, reason]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ auth_method: 'oauth', outcome: 'rejected', detail: expect.objectContaining({ reason }) });
      const text = JSON.stringify(rows[0]);
      for (const part of token.split('.')) expect(text).not.toContain(part);
    });
  });

  describe('accepted tokens', () => {
    it('v2 client, modern era: lists only the tools its scopes allow, calls one, audited as the OAuth principal', async () => {
      const token = await idp.mint(resource, { sub: 'modern-user', scope: 'notes:read' });
      const client = modern();
      await client.connect(transport(async () => token).transport);
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');

      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('notes_read');
      expect(names).not.toContain('notes_write');
      const before = new Date();
      expect(await client.callTool({ name: 'notes_read', arguments: { title: 'welcome' } })).toMatchObject({ content: [{ text: 'Hello from Portico' }] });
      await client.close();

      const id = `oauth:${idp.issuer}#modern-user`;
      const calls = await portico.auditRows(`kind = 'tool_call' AND occurred_at >= $1 AND principal_id = $2`, [before, id]);
      expect(calls).toEqual([expect.objectContaining({ tool: 'notes_read', era: 'modern', auth_method: 'oauth', outcome: 'ok' })]);
      // Several requests with one token: one auth_success row.
      const successes = await portico.auditRows(`kind = 'auth_success' AND principal_id = $1`, [id]);
      expect(successes).toHaveLength(1);
      expect(successes[0]).toMatchObject({ auth_method: 'oauth', outcome: 'ok', detail: { issuer: idp.issuer, clientId: 'test-client', scopes: ['notes:read'] } });
    });

    it('v2 client, legacy era: a session, a call, audited with the session id', async () => {
      const token = await idp.mint(resource, { sub: 'legacy-user', scope: 'notes:read' }, { alg: 'RS256', typ: 'JWT' });
      const client = legacy();
      const { transport: t } = transport(async () => token);
      await client.connect(t);
      expect(client.getNegotiatedProtocolVersion()).toBe(LEGACY);

      expect(await client.callTool({ name: 'notes_read', arguments: { title: 'welcome' } })).toMatchObject({ content: [{ text: 'Hello from Portico' }] });
      const rows = await portico.auditRows(`kind = 'tool_call' AND session_id = $1`, [t.sessionId]);
      expect(rows).toEqual([expect.objectContaining({ principal_id: `oauth:${idp.issuer}#legacy-user`, era: 'legacy', outcome: 'ok' })]);
      await t.terminateSession();
      await client.close();
    });

    it('keeps static tokens working beside OAuth, with every scope', async () => {
      const client = modern();
      await client.connect(new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: bearer(TOKENS.alice) } }));
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['notes_read', 'notes_write']));
      await client.close();
    });
  });

  describe('step-up: a tool call without its scopes gets 403 insufficient_scope', () => {
    const stepUp = () => `Bearer error="insufficient_scope", scope="notes:read notes:write", resource_metadata="${metadataUrl}"`;

    it('modern era', async () => {
      const token = await idp.mint(resource, { sub: 'stepup-modern', scope: 'notes:read' });
      const client = modern();
      const { transport: t, seen } = transport(async () => token);
      await client.connect(t);

      const error = await client.callTool({ name: 'notes_write', arguments: { title: 't', text: 'x' } }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(InsufficientScopeError);
      expect((error as InsufficientScopeError).requiredScope).toBe('notes:read notes:write');
      expect(seen.at(-1)).toEqual({ status: 403, wwwAuthenticate: stepUp() });
      await client.close();
    });

    it('legacy era: refused in the session, then allowed in the same session once the client holds the scope', async () => {
      let token = await idp.mint(resource, { sub: 'stepup-legacy', scope: 'notes:read' });
      const client = legacy();
      const { transport: t, seen } = transport(async () => token);
      await client.connect(t);
      const sessionId = t.sessionId;
      const changed = new Promise<void>((resolve) => client.setNotificationHandler('notifications/tools/list_changed', () => resolve()));

      const error = await client.callTool({ name: 'notes_write', arguments: { title: 't', text: 'x' } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InsufficientScopeError);
      expect(seen.at(-1)).toEqual({ status: 403, wwwAuthenticate: stepUp() });

      // The client re-authorizes with the scopes the challenge named and carries on.
      token = await idp.mint(resource, { sub: 'stepup-legacy', scope: 'notes:read notes:write' });
      expect(await client.callTool({ name: 'notes_write', arguments: { title: 'stepped', text: 'up' } })).toMatchObject({
        content: [{ text: 'saved stepped for Alice Example' }],
      });
      await changed;
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('notes_write');
      expect(t.sessionId).toBe(sessionId);
      await t.terminateSession();
      await client.close();
    });

    it('answers the raw request with a JSON-RPC error body as well', async () => {
      const token = await idp.mint(resource, { sub: 'stepup-raw', scope: 'notes:read' });
      const open = await post(initialize, bearer(token));
      const sessionId = open.headers.get('mcp-session-id')!;
      await open.text();

      const res = await post(
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'notes_write', arguments: { title: 't', text: 'x' } } },
        { ...bearer(token), 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': LEGACY },
      );

      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBe(stepUp());
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringMatching(/Insufficient scope: notes_write/) } });

      // The refusal is in the audit log, as a denied tool call.
      const [row] = await portico.auditRows(`kind = 'tool_call' AND outcome = 'denied' AND session_id = $1`, [sessionId]);
      expect(row).toMatchObject({ tool: 'notes_write', error_code: 'insufficient_scope', auth_method: 'oauth' });
      expect(JSON.stringify(row)).not.toContain(token);
    });
  });

  describe('sessions across tokens', () => {
    it('an expired token mid-session gets 401; the client refreshes and continues the same session', async () => {
      const now = () => Math.floor(Date.now() / 1000);
      let refreshes = 0;
      let token = await idp.mint(resource, { sub: 'refresh-user', jti: 'first' });
      const client = legacy();
      const { transport: t, seen } = transport(
        async () => token,
        async () => {
          refreshes++;
          token = await idp.mint(resource, { sub: 'refresh-user', jti: `refreshed-${refreshes}` });
        },
      );
      await client.connect(t);
      const sessionId = t.sessionId!;
      await client.callTool({ name: 'notes_read', arguments: { title: 'welcome' } });

      // Time passes: the token the client holds has expired.
      token = await idp.mint(resource, { sub: 'refresh-user', jti: 'stale', exp: now() - 120 });
      expect(await client.callTool({ name: 'notes_read', arguments: { title: 'welcome' } })).toMatchObject({ content: [{ text: 'Hello from Portico' }] });

      expect(refreshes).toBe(1);
      expect(seen.some((s) => s.status === 401 && s.wwwAuthenticate?.includes('error="invalid_token"'))).toBe(true);
      expect(t.sessionId).toBe(sessionId);
      const calls = await portico.auditRows(`kind = 'tool_call' AND session_id = $1`, [sessionId]);
      expect(calls.map((r) => r.outcome)).toEqual(['ok', 'ok']);
      expect(new Set(calls.map((r) => r.principal_id))).toEqual(new Set([`oauth:${idp.issuer}#refresh-user`]));
      const expired = await portico.auditRows(`kind = 'auth_failure' AND error_code = 'expired' AND principal_id = $1`, [`oauth:${idp.issuer}#refresh-user`]);
      expect(expired).toHaveLength(1);
      await t.terminateSession();
      await client.close();
    });

    it("another subject's valid token cannot use the session (404)", async () => {
      const alice = await idp.mint(resource, { sub: 'owner' });
      const open = await post(initialize, bearer(alice));
      const sessionId = open.headers.get('mcp-session-id')!;
      await open.text();
      const mallory = await idp.mint(resource, { sub: 'mallory' });

      const res = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, { ...bearer(mallory), 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': LEGACY });

      expect(res.status).toBe(404);
    });
  });
});
