import { auth, Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { randomBytes } from 'node:crypto';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { UsersService } from '../../src/auth/users.service';
import { ACCOUNT_VERIFIER } from '../../src/authorization-server/account-verifier';
import type { CredentialsAccountVerifier } from '../../src/authorization-server/credentials-account.verifier';
import { approveInBrowser, builtinEnv, MemoryOAuthClient } from '../support/authorization-server';
import { TestBrowser } from '../support/oauth-browser';
import { bootPortico, type TestPortico } from '../support/portico';
import { NoteToolsModule } from '../support/scoped-tools';

const ADMIN = { id: 'cli:e2e', authMethod: 'cli' };

/**
 * Signing in on the built-in authorization server's login page with Portico
 * users (user name and password) and API keys: the token names the account,
 * carries only the scopes the account holds, and stops being refreshed once
 * the user is disabled or the key revoked.
 */
describe('built-in authorization server with Portico users and API keys', () => {
  const run = randomBytes(3).toString('hex');
  const username = `carol-${run}`;
  const password = 'carol: the password';
  let portico: TestPortico;
  let mcpUrl: string;
  let key: string;
  let prefix: string;

  beforeAll(async () => {
    portico = await bootPortico(builtinEnv(), [NoteToolsModule]);
    mcpUrl = portico.mcpUrl;
    await portico.app.get(UsersService).add({ username, password, scopes: ['notes:read'] }, ADMIN);
    ({ key, record: { prefix } } = await portico.app.get(ApiKeyService).create({ name: `connector ${run}`, scopes: ['notes:read', 'notes:write'] }, ADMIN));
    // The login page learns of the new user within 30 s; the test does not wait.
    await portico.app.get<CredentialsAccountVerifier>(ACCOUNT_VERIFIER).refresh();
  });

  afterAll(async () => {
    await portico?.stop();
  });

  const client = (redirect: string) =>
    new MemoryOAuthClient(redirect, {
      client_name: `Credentials e2e ${redirect}`,
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'notes:read notes:write',
    });

  /** Connects (401 → authorization URL), runs `signIn` on the login page, approves, finishes. */
  async function authorize(provider: MemoryOAuthClient, signIn: (browser: TestBrowser, url: string) => Promise<URL>) {
    const first = await new Client({ name: 'e2e', version: '1' })
      .connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }))
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UnauthorizedError);
    const callback = await signIn(new TestBrowser(), provider.authorizationUrl!.href);
    await new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }).finishAuth(callback.searchParams);
    const connected = new Client({ name: 'e2e', version: '1' });
    await connected.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
    return connected;
  }

  it('a user signs in with user name and password; the token is theirs, with their scopes only; disabling them ends refreshes', async () => {
    const redirect = 'http://127.0.0.1:49153/callback';
    const provider = client(redirect);
    const connected = await authorize(provider, async (browser, url) => {
      const login = await browser.go(url, redirect);
      expect(login.page!.body).toContain('With your Portico user');

      const wrong = await browser.submit(login.page!, 'login', { method: 'password', username, password: 'carol: wrong' }, redirect);
      expect(wrong.page!.status).toBe(401);
      const consent = await browser.submit(wrong.page!, 'login', { method: 'password', username, password }, redirect);
      expect(consent.page!.body).toContain('Allow');
      const back = await browser.submit(consent.page!, 'confirm', {}, redirect);
      return new URL(back.redirectedTo!);
    });

    expect(decodeJwt(provider.tokens()!.access_token)).toMatchObject({ sub: `user:${username}`, scope: 'mcp notes:read' });
    const tools = (await connected.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('notes_read');
    expect(tools).not.toContain('notes_write');
    await connected.close();

    const failures = await portico.auditRows(`kind = 'auth_failure' AND auth_method = 'oauth_login'`);
    expect(failures).toEqual([expect.objectContaining({ error_code: 'bad_password', detail: expect.objectContaining({ account: `user:${username}`, method: 'password' }) })]);
    expect(JSON.stringify(failures)).not.toContain('carol: wrong');

    expect(await auth(provider, { serverUrl: mcpUrl })).toBe('AUTHORIZED');
    await portico.app.get(UsersService).disable(username, ADMIN);
    await expect(auth(provider, { serverUrl: mcpUrl })).rejects.toThrow();
  });

  it('an API key signs in; the token names the key and carries its scopes; revoking the key ends refreshes', async () => {
    const redirect = 'http://127.0.0.1:49154/callback';
    const provider = client(redirect);
    const connected = await authorize(provider, async (browser, url) => (await approveInBrowser(browser, url, redirect, key)).callback);

    expect(decodeJwt(provider.tokens()!.access_token)).toMatchObject({ sub: `key:${prefix}`, scope: 'mcp notes:read notes:write' });
    expect(await connected.callTool({ name: 'notes_write', arguments: { title: 'plan', text: 'ship it' } })).toMatchObject({
      content: [{ text: `saved plan for key:${prefix}` }],
    });
    await connected.close();

    await portico.app.get(ApiKeyService).revoke(prefix, ADMIN);
    await expect(auth(provider, { serverUrl: mcpUrl })).rejects.toThrow();
  });
});
