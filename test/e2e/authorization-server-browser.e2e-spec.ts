import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/common/paths';
import { builtinEnv } from '../support/authorization-server';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { ACCEPT, initialize } from '../support/raw-mcp';

const CHROMIUM = '/usr/bin/chromium';
/** The machine's network is closed: without the background-networking flags Chromium keeps dialling out. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');

// Debian's chromium is installed by .ci/run; this test installs nothing. In CI a missing browser fails it.
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium (apt-get install -y chromium)`);
const describeWithBrowser = available ? describe : describe.skip;

/**
 * The login and consent pages of the built-in authorization server in headless
 * Chromium, as a person meets them: sign in with an API key, approve, land on
 * the client's redirect with a code; a forged CSRF token and an unregistered
 * redirect URI are refused. Screenshots of each page go to test/artifacts/.
 */
describeWithBrowser('built-in authorization server in a browser', () => {
  let portico: TestPortico;
  let issuer: string;
  let callbackServer: Server;
  let redirectUri: string;
  const callbacks: URL[] = [];
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    portico = await bootPortico(builtinEnv());
    issuer = new URL(portico.mcpUrl).origin;
    callbackServer = createServer((req, res) => {
      const url = new URL(req.url!, redirectUri);
      if (url.pathname === '/callback') callbacks.push(url); // not the browser's /favicon.ico
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('client callback reached');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
    profile = mkdtempSync(join(tmpdir(), 'portico-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    callbackServer?.closeAllConnections();
    await new Promise<void>((resolve) => (callbackServer ? callbackServer.close(() => resolve()) : resolve()));
    await portico?.stop();
  });

  const register = async (name: string) => {
    const res = await fetch(`${issuer}/oauth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: name, redirect_uris: [redirectUri] }),
    });
    expect(res.status).toBe(201);
    return (await res.json()).client_id as string;
  };

  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };

  const authorizeUrl = (clientId: string, challenge: string, state: string, redirect = redirectUri) =>
    `${issuer}/oauth/authorize?${new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirect,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: portico.mcpUrl,
    })}`;

  const forgeCsrf = (form: string) => page.locator(`form[action$="/${form}"] input[name="csrf"]`).first().evaluate((el) => ((el as HTMLInputElement).value = 'forged-token'));

  it('signs in with an API key, shows the consent, and lands on the redirect URI with a code that buys a working token', async () => {
    const clientId = await register('Browser Test Client');
    const { verifier, challenge } = pkce();

    // A forged CSRF token on the login form is refused.
    const login = await page.goto(authorizeUrl(clientId, challenge, 'state-1'));
    expect(login!.status()).toBe(200);
    expect(login!.headers()['x-frame-options']).toBe('DENY');
    expect(login!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await expect(page.getByRole('heading', { name: 'Sign in to Portico' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('Browser Test Client').first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'authorization-login.png'), fullPage: true });
    await forgeCsrf('login');
    await page.getByRole('textbox', { name: 'API key' }).fill(TOKENS.alice);
    const refused = page.waitForResponse((r) => r.url().endsWith('/login'));
    await page.getByRole('button', { name: 'Sign in with the key' }).click();
    expect((await refused).status()).toBe(403);
    await page.getByRole('heading', { name: 'Request refused' }).waitFor();

    // A wrong key is refused on the page itself.
    await page.goto(authorizeUrl(clientId, challenge, 'state-1'));
    await page.getByRole('textbox', { name: 'API key' }).fill('not-a-key-0123456789abcdef');
    await page.getByRole('button', { name: 'Sign in with the key' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Sign-in failed');

    // The right key: the consent page names the client, its redirect URI and who is signed in.
    await page.getByRole('textbox', { name: 'API key' }).fill(TOKENS.alice);
    await page.getByRole('button', { name: 'Sign in with the key' }).click();
    await page.getByRole('heading', { name: 'Authorize Browser Test Client' }).waitFor();
    await expect(page.getByText(redirectUri).isVisible()).resolves.toBe(true);
    await expect(page.getByText('alice', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('use the tools open to every signed-in account').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'authorization-consent.png'), fullPage: true });

    // A forged CSRF token on the consent form is refused; nothing reaches the client.
    await forgeCsrf('confirm');
    const forged = page.waitForResponse((r) => r.url().endsWith('/confirm'));
    await page.getByRole('button', { name: 'Allow' }).click();
    expect((await forged).status()).toBe(403);
    await page.getByRole('heading', { name: 'Request refused' }).waitFor();
    expect(callbacks).toHaveLength(0);
    await page.screenshot({ path: join(ARTIFACTS, 'authorization-csrf-refused.png'), fullPage: true });

    // Start again (still signed in): approve, and land on the client's redirect URI.
    await page.goto(authorizeUrl(clientId, challenge, 'state-2'));
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    expect(callbacks).toHaveLength(1);
    const callback = callbacks[0];
    expect(callback.searchParams.get('state')).toBe('state-2');
    expect(callback.searchParams.get('iss')).toBe(issuer);
    const code = callback.searchParams.get('code');
    expect(code).toEqual(expect.any(String));

    const token = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId, resource: portico.mcpUrl }),
    });
    expect(token.status).toBe(200);
    expect(token.headers.get('cache-control')).toContain('no-store');
    const { access_token: accessToken } = await token.json();
    const mcp = await fetch(portico.mcpUrl, { method: 'POST', headers: { ...ACCEPT, ...bearer(accessToken) }, body: JSON.stringify(initialize) });
    expect(mcp.status).toBe(200);
  });

  it('refuses a redirect URI the client did not register, without redirecting', async () => {
    const clientId = await register('Strict Client');
    const { challenge } = pkce();
    const evil = 'https://evil.example.com/callback';
    const response = await page.goto(authorizeUrl(clientId, challenge, 'state-3', evil));
    expect(response!.status()).toBe(400);
    expect(page.url().startsWith(issuer)).toBe(true);
    await expect(page.getByRole('heading', { name: 'Sign-in cannot continue' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/redirect_uri/);
    await page.screenshot({ path: join(ARTIFACTS, 'authorization-wrong-redirect.png'), fullPage: true });
  });
});
