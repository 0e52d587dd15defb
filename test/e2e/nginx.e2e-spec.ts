import { Agent, type Dispatcher, fetch as undiciFetch, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { readFileSync } from 'node:fs';
import { accessTokenVia, builtinEnv } from '../support/authorization-server';
import { freePort, nginxAvailable } from '../support/nginx';
import { type DoctorRun, type NginxFront, runDoctorCli, spawnedPortico, startNginxFront } from '../support/nginx-front';
import { bearer, bootPortico, TOKENS } from '../support/portico';
import { ACCEPT, cutSlowCountCall, LEGACY, resumeAfter } from '../support/raw-mcp';
import { ProbeToolsModule } from '../support/test-tools';

/**
 * nginx/portico.conf as shipped, run by Debian's nginx (adapted by scripts/nginx-front.js: free
 * ports, a self-signed certificate, temp paths) in front of real Portico instances, and
 * `portico doctor` against them, directly and through nginx, and against deliberately broken
 * variants of the configuration. The conformance suites through nginx run in
 * scripts/nginx-conformance.sh.
 */
const describeNginx = nginxAvailable ? describe : describe.skip;
/** Tests that take over a minute: in CI, or with PORTICO_SLOW_TESTS=1. */
const slowIt = process.env.CI === 'true' || process.env.PORTICO_SLOW_TESTS === '1' ? it : it.skip;

/** One SSE event and when it arrived, in ms since the request started. */
interface Timed {
  at: number;
  id?: string;
  data: string;
}

/** POSTs and reads the SSE answer as it arrives, recording each event's arrival time; `end` is when the stream ended. */
async function timedSse(url: string, headers: Record<string, string>, body: unknown): Promise<{ events: Timed[]; end: number }> {
  const started = Date.now();
  const res = await fetch(url, { method: 'POST', headers: { ...ACCEPT, ...headers }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: Timed[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .join('');
      if (data) events.push({ at: Date.now() - started, id: /^id: (.+)$/m.exec(block)?.[1], data });
    }
  }
  return { events, end: Date.now() - started };
}

async function openLegacySession(url: string, token: string): Promise<Record<string, string>> {
  const headers = { ...ACCEPT, ...bearer(token) };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'nginx-test', version: '1' } } }),
  });
  expect(init.status).toBe(200);
  await init.text();
  const session = { ...bearer(token), 'Mcp-Session-Id': init.headers.get('mcp-session-id')!, 'MCP-Protocol-Version': LEGACY };
  const ack = await fetch(url, { method: 'POST', headers: { ...ACCEPT, ...session }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  expect(ack.status).toBe(202);
  return session;
}

/** No required check failed (on failure, the failing checks are shown with their details and hints). */
function expectAllRequiredPass(run: DoctorRun) {
  expect(run.report.checks.filter((c) => c.required && c.status === 'fail')).toEqual([]);
  expect(run.code).toBe(0);
}

const slowCount = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow_count', arguments: { to: 4, every_ms: 400 }, _meta: { progressToken: `p${id}` } } });

describeNginx('nginx/portico.conf in front of Portico', () => {
  let previousDispatcher: Dispatcher;
  const previousFetch = globalThis.fetch;
  /** This process's fetch (undici's: Jest's sandbox cannot reach the built-in fetch's dispatcher) trusts the test certificates. */
  let agent: Agent | undefined;
  const trust = (...fronts: NginxFront[]) => {
    void agent?.close();
    agent = new Agent({ connect: { ca: fronts.map((f) => readFileSync(f.ca, 'utf8')) } });
    setGlobalDispatcher(agent);
  };
  const started: { stop(): Promise<void> }[] = [];
  const track = <T extends { stop(): Promise<void> }>(x: T): T => (started.push(x), x);

  /**
   * A Portico on a chosen port, with nginx in front whose public URL it knows (PUBLIC_BASE_URL).
   * In this process (with the probe tools) for one site only; the others run in processes of
   * their own: passport's strategies are process-wide, the last instance booted would
   * authenticate for every instance of the process.
   */
  async function behindNginx(env: Record<string, string>, { prefix = '', inProcess = false } = {}) {
    const [appPort, httpsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const base = `https://127.0.0.1:${httpsPort}${prefix}`;
    const front = track(await startNginxFront(`127.0.0.1:${appPort}`, { httpsPort, httpPort, prefix: Boolean(prefix) }));
    const proxied = { TRUST_PROXY: '1', PUBLIC_BASE_URL: base, ...env };
    const portico = track(inProcess ? await bootPortico({ PORT: String(appPort), ...proxied }, [ProbeToolsModule]) : await spawnedPortico(proxied, appPort));
    return { front, portico, appPort, httpsPort, httpPort, mcpUrl: `${base}/mcp` };
  }

  let bearerSite: Awaited<ReturnType<typeof behindNginx>>;
  let oauthSite: Awaited<ReturnType<typeof behindNginx>>;

  beforeAll(async () => {
    previousDispatcher = getGlobalDispatcher();
    bearerSite = await behindNginx({}, { inProcess: true });
    oauthSite = await behindNginx(builtinEnv());
    globalThis.fetch = undiciFetch as unknown as typeof fetch;
    trust(bearerSite.front, oauthSite.front);
  });

  afterAll(async () => {
    setGlobalDispatcher(previousDispatcher);
    globalThis.fetch = previousFetch;
    await agent?.close();
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  });

  describe('the configuration', () => {
    it('passes nginx -t', () => {
      expect(bearerSite.front.nginxTest).toMatch(/syntax is ok/);
      expect(bearerSite.front.nginxTest).toMatch(/test is successful/);
    });

    it('sends POST /mcp and POST /mcp/ to Portico, neither redirected', async () => {
      for (const path of ['/mcp', '/mcp/']) {
        const res = await fetch(`${bearerSite.front.https}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { ...ACCEPT, ...bearer(TOKENS.alice), 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/list' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/list',
            params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
          }),
        });
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
        expect(await res.text()).toContain('"slow_count"');
      }
      // Without a token, the challenge is Portico's (resource_metadata on the public URL), not nginx's.
      const anonymous = await fetch(`${bearerSite.front.https}/mcp`, { method: 'POST', redirect: 'manual', headers: ACCEPT, body: '{}' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain(`resource_metadata="${bearerSite.front.https}/.well-known/oauth-protected-resource/mcp"`);
    });

    it('serves .well-known without auth: both protected-resource metadata paths and the authorization server metadata', async () => {
      for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
        const res = await fetch(`${oauthSite.front.https}${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
        const doc = await res.json();
        expect(doc.resource).toBe(oauthSite.mcpUrl);
        expect(doc.authorization_servers).toEqual([oauthSite.front.https]);
      }
      const as = await fetch(`${oauthSite.front.https}/.well-known/oauth-authorization-server`);
      expect(as.status).toBe(200);
      const metadata = await as.json();
      // X-Forwarded-Proto reached Portico: every endpoint is on https.
      expect(metadata.issuer).toBe(oauthSite.front.https);
      expect(metadata.token_endpoint).toBe(`${oauthSite.front.https}/oauth/token`);
    });

    it('adds the security headers to every answer, also errors, and hides the version', async () => {
      for (const [path, method] of [
        ['/mcp', 'POST'],
        ['/.well-known/oauth-protected-resource/mcp', 'GET'],
        ['/nowhere', 'GET'],
      ]) {
        const res = await fetch(`${bearerSite.front.https}${path}`, { method, headers: ACCEPT, body: method === 'POST' ? '{}' : undefined });
        await res.arrayBuffer();
        expect({ path, hsts: res.headers.get('strict-transport-security') }).toEqual({ path, hsts: 'max-age=63072000; includeSubDomains' });
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('referrer-policy')).toBe('no-referrer');
        expect(res.headers.get('server')).toBe('nginx');
      }
    });

    it('on port 80, serves the ACME challenge and redirects the rest to https', async () => {
      const acme = await fetch(`${bearerSite.front.http}/.well-known/acme-challenge/probe`);
      expect(acme.status).toBe(200);
      expect(await acme.text()).toBe('acme-probe\n');
      const plain = await fetch(`${bearerSite.front.http}/mcp`, { redirect: 'manual' });
      expect(plain.status).toBe(301);
      expect(plain.headers.get('location')).toBe(`https://127.0.0.1:${bearerSite.httpsPort}/mcp`);
    });

    it('streams SSE unbuffered: progress events arrive while the call is still running, not at its end', async () => {
      const session = await openLegacySession(bearerSite.mcpUrl, TOKENS.alice);
      const { events, end } = await timedSse(bearerSite.mcpUrl, session, slowCount(42));
      const progress = events.filter((e) => e.data.includes('notifications/progress'));
      const result = events.find((e) => e.data.includes('"id":42'))!;
      expect(progress).toHaveLength(4);
      expect(result.data).toContain('counted to 4');
      // 4 × 400 ms: the first progress event comes at about 400 ms, the result at about 1600 ms.
      expect(progress[0].at).toBeLessThan(1100);
      expect(result.at - progress[0].at).toBeGreaterThan(800);
      expect(end).toBeGreaterThanOrEqual(result.at);
    });

    it('passes the session headers and Last-Event-ID: a stream cut mid-call resumes through nginx', async () => {
      const session = await openLegacySession(bearerSite.mcpUrl, TOKENS.alice);
      const headers = { ...ACCEPT, ...session };
      const lastEventId = await cutSlowCountCall(bearerSite.mcpUrl, headers, 7);
      const { status, replay } = await resumeAfter(bearerSite.mcpUrl, headers, lastEventId, 7);
      expect(status).toBe(200);
      expect(replay).toContain('counted to 4');
      expect(replay).not.toContain(`id: ${lastEventId}\n`);
    });
  });

  describe('portico doctor', () => {
    it('(a) against the app directly, bearer mode: every required check passes', async () => {
      const direct = track(await spawnedPortico({}));
      const run = await runDoctorCli(direct.mcpUrl, ['--token', TOKENS.alice, '--status-url', direct.statusUrl]);
      expectAllRequiredPass(run);
      expect(run.status('tls')).toBe('skip'); // plain http on loopback
      for (const id of ['no-redirect', 'auth-challenge', 'protected-resource-metadata', 'modern-discover', 'legacy-initialize', 'tools-list', 'sse-unbuffered', 'status-health']) {
        expect({ id, status: run.status(id) }).toEqual({ id, status: 'pass' });
      }
      // No authorization server: claude.ai cannot connect, which is a warning, not a failure.
      expect(run.status('authorization-server')).toBe('warn');
    });

    it('(a) against the app directly, OAuth mode (built-in authorization server), with an OAuth access token', async () => {
      const direct = track(await spawnedPortico(builtinEnv()));
      const issuer = new URL(direct.mcpUrl).origin;
      const token = await accessTokenVia(issuer, direct.mcpUrl, TOKENS.alice);
      const run = await runDoctorCli(direct.mcpUrl, ['--token', token]);
      expectAllRequiredPass(run);
      for (const id of ['authorization-server', 'dynamic-registration', 'modern-discover', 'legacy-initialize', 'tools-list', 'sse-unbuffered']) {
        expect({ id, status: run.status(id) }).toEqual({ id, status: 'pass' });
      }
    });

    it('(b) through nginx with TLS, bearer mode: every required check passes, TLS and headers included', async () => {
      const run = await runDoctorCli(bearerSite.mcpUrl, ['--token', TOKENS.alice, '--ca', bearerSite.front.ca, '--status-url', bearerSite.portico.statusUrl]);
      expectAllRequiredPass(run);
      expect(run.check('tls').detail).toMatch(/TLSv1\.[23]/);
      for (const id of ['tls', 'no-redirect', 'auth-challenge', 'security-headers', 'protected-resource-metadata', 'modern-discover', 'legacy-initialize', 'tools-list', 'sse-unbuffered', 'status-health']) {
        expect({ id, status: run.status(id) }).toEqual({ id, status: 'pass' });
      }
    });

    it('(b) through nginx with TLS, OAuth mode: discovery, registration and authorize pass without a token, everything with one', async () => {
      const anonymous = await runDoctorCli(oauthSite.mcpUrl, ['--ca', oauthSite.front.ca]);
      expectAllRequiredPass(anonymous);
      expect(anonymous.status('authorization-server')).toBe('pass');
      expect(anonymous.check('dynamic-registration').detail).toMatch(/claude\.ai callbacks; authorize .* → 303 to \/interaction\//);
      expect(anonymous.status('tools-list')).toBe('skip');

      const token = await accessTokenVia(oauthSite.front.https, oauthSite.mcpUrl, TOKENS.alice);
      const run = await runDoctorCli(oauthSite.mcpUrl, ['--token', token, '--ca', oauthSite.front.ca]);
      expectAllRequiredPass(run);
      for (const id of ['tls', 'auth-challenge', 'protected-resource-metadata', 'authorization-server', 'dynamic-registration', 'modern-discover', 'legacy-initialize', 'tools-list', 'sse-unbuffered']) {
        expect({ id, status: run.status(id) }).toEqual({ id, status: 'pass' });
      }
    });

    it('(b) through nginx/portico-path-prefix.conf at /portico/mcp, OAuth mode', async () => {
      const site = await behindNginx(builtinEnv(), { prefix: '/portico' });
      trust(bearerSite.front, oauthSite.front, site.front);
      const token = await accessTokenVia(`${site.front.https}/portico`, site.mcpUrl, TOKENS.alice);
      const run = await runDoctorCli(site.mcpUrl, ['--token', token, '--ca', site.front.ca]);
      expectAllRequiredPass(run);
      expect(run.check('protected-resource-metadata').detail).toContain('/.well-known/oauth-protected-resource/portico/mcp: 200');
      for (const id of ['authorization-server', 'dynamic-registration', 'modern-discover', 'legacy-initialize', 'tools-list', 'sse-unbuffered']) {
        expect({ id, status: run.status(id) }).toEqual({ id, status: 'pass' });
      }
    });

    slowIt(
      '(b) through nginx: an idle SSE stream survives past 60 s (--idle-stream)',
      async () => {
        const run = await runDoctorCli(bearerSite.mcpUrl, ['--token', TOKENS.alice, '--ca', bearerSite.front.ca, '--idle-stream', '--idle-seconds', '65']);
        expectAllRequiredPass(run);
        expect(run.check('idle-stream')).toMatchObject({ status: 'pass', detail: 'still open after 65 s' });
      },
      120_000,
    );

    describe('against broken set-ups, the right check fails with its hint', () => {
      /** Swaps bearerSite's nginx for a broken variant on the same ports (so PUBLIC_BASE_URL still matches), runs the doctor, then restores it. */
      async function withVariant(variant: 'buffering-on' | 'slash-redirect' | 'well-known-auth' | 'short-timeouts', extra: string[] = []) {
        await bearerSite.front.stop();
        let front: NginxFront | undefined;
        try {
          front = await startNginxFront(`127.0.0.1:${bearerSite.appPort}`, { variant, httpsPort: bearerSite.httpsPort, httpPort: bearerSite.httpPort });
          return await runDoctorCli(bearerSite.mcpUrl, ['--token', TOKENS.alice, '--ca', front.ca, ...extra]);
        } finally {
          await front?.stop();
          bearerSite.front = track(await startNginxFront(`127.0.0.1:${bearerSite.appPort}`, { httpsPort: bearerSite.httpsPort, httpPort: bearerSite.httpPort }));
          trust(bearerSite.front, oauthSite.front);
        }
      }

      it('buffering on: sse-unbuffered', async () => {
        const run = await withVariant('buffering-on');
        expect(run.code).toBe(1);
        expect(run.failed).toEqual(['sse-unbuffered']);
        expect(run.check('sse-unbuffered').detail).toMatch(/buffers/);
        expect(run.check('sse-unbuffered').hint).toContain('proxy_buffering off');
        // Everything else still works: the buffered answers come, only late.
        expect(run.status('tools-list')).toBe('pass');
      });

      it('a /mcp/ prefix location that redirects /mcp: no-redirect', async () => {
        const run = await withVariant('slash-redirect');
        expect(run.code).toBe(1);
        expect(run.failed).toEqual(['no-redirect']);
        expect(run.check('no-redirect').detail).toMatch(/POST \/mcp answered 301 → https:\/\/127\.0\.0\.1:\d+\/mcp\//);
        expect(run.check('no-redirect').hint).toContain('location = /mcp');
      });

      it('a short proxy_read_timeout: idle-stream', async () => {
        const run = await withVariant('short-timeouts', ['--idle-stream', '--idle-seconds', '6']);
        expect(run.code).toBe(1);
        expect(run.failed).toEqual(['idle-stream']);
        expect(run.check('idle-stream').detail).toMatch(/the stream ended after [345]\.\d s/);
        expect(run.check('idle-stream').hint).toContain('proxy_read_timeout 3600s');
      });

      it('.well-known behind auth: protected-resource-metadata', async () => {
        const run = await withVariant('well-known-auth');
        expect(run.code).toBe(1);
        expect(run.failed).toEqual(['protected-resource-metadata']);
        expect(run.check('protected-resource-metadata').detail).toContain('401');
        expect(run.check('protected-resource-metadata').hint).toContain('/.well-known/ must be public');
      });
    });
  });
});
