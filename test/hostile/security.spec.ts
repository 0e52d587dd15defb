import type { TestPortico } from '../support/portico';
import { bearer, TOKENS } from '../support/portico';
import { ACCEPT, initialize } from '../support/raw-mcp';
import { ADMIN_TOKEN, bootHostilePortico, MAX_BODY_BYTES, METRICS_TOKEN, openLegacySession } from './hostile-portico';

/** 24 random bytes in base64url: 192 bits, the format of both session kinds. */
const SESSION_ID = /^[A-Za-z0-9_-]{32}$/;

/** Opens a legacy HTTP+SSE session and returns the id its `endpoint` event names; the stream is then dropped. */
async function openSseSession(origin: string, token: string): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(`${origin}/sse`, { headers: { ...bearer(token), Accept: 'text/event-stream' }, signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  try {
    while (!/sessionId=([^\s&]+)/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  } finally {
    controller.abort();
  }
  return /sessionId=([^\s&]+)/.exec(text)![1];
}

describe('security checks against a running Portico', () => {
  let portico: TestPortico;
  let origin: string;

  beforeAll(async () => {
    portico = await bootHostilePortico({ SESSION_MAX_PER_PRINCIPAL: '1000' });
    origin = new URL(portico.mcpUrl).origin;
  });

  afterAll(async () => {
    await portico?.stop();
  });

  describe('session ids come from a CSPRNG with at least 128 bits', () => {
    it('legacy /mcp sessions: 200 ids, 192-bit base64url, all distinct, no shared prefix', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) ids.push(await openLegacySession(portico.mcpUrl, i % 2 ? TOKENS.alice : TOKENS.bob));
      expectRandomIds(ids);
    });

    it('legacy HTTP+SSE sessions: 50 ids, same format', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 50; i++) ids.push(await openSseSession(origin, TOKENS.alice));
      expectRandomIds(ids);
    });

    /** Format, length and uniqueness, and the ids' characters spread over the alphabet (no counter, no timestamp). */
    function expectRandomIds(ids: string[]) {
      for (const id of ids) expect(id).toMatch(SESSION_ID);
      expect(new Set(ids).size).toBe(ids.length);
      // A counter or a clock shares a long prefix between consecutive ids; random ids share about none.
      const prefixes = new Set(ids.map((id) => id.slice(0, 6)));
      expect(prefixes.size).toBe(ids.length);
      // Every base64url character turns up somewhere (6 bits per character, 32 characters per id).
      const seen = new Set(ids.join(''));
      expect(seen.size).toBeGreaterThanOrEqual(60);
    }
  });

  describe('security headers on every response of both ports', () => {
    /** The headers helmet sets, as configured in src/common/security-headers.ts. */
    function expectSecurityHeaders(res: Response, what: string) {
      const h = Object.fromEntries(res.headers);
      const missing = Object.entries({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'x-dns-prefetch-control': 'off',
        'x-permitted-cross-domain-policies': 'none',
        'origin-agent-cluster': '?1',
      }).filter(([k, v]) => h[k] !== v);
      expect({ what, missing }).toEqual({ what, missing: [] });
      expect({ what, csp: h['content-security-policy'] }).toEqual({ what, csp: expect.stringMatching(/default-src 'none'.*frame-ancestors 'none'/) });
      expect({ what, referrer: h['referrer-policy'] }).toEqual({ what, referrer: expect.stringMatching(/^(no-referrer|same-origin)$/) });
      // The TLS terminator owns HSTS (docs/security.md); nothing says which server software answers.
      expect({ what, hsts: h['strict-transport-security'], poweredBy: h['x-powered-by'] }).toEqual({ what, hsts: undefined, poweredBy: undefined });
    }

    it('main port: 200, 401, 403 (Origin), 404, 413, 400, the SSE answer, metadata, the authorization server', async () => {
      const post = (body: string, headers: Record<string, string> = {}) => fetch(portico.mcpUrl, { method: 'POST', headers: { ...ACCEPT, ...headers }, body });
      const answers: [string, Response, number][] = [
        ['GET /health', await fetch(`${origin}/health`), 200],
        ['POST /mcp initialize (SSE)', await post(JSON.stringify(initialize), bearer(TOKENS.alice)), 200],
        ['POST /mcp without a token', await post(JSON.stringify(initialize)), 401],
        ['POST /mcp from an evil Origin', await post(JSON.stringify(initialize), { ...bearer(TOKENS.alice), Origin: 'https://evil.example.com' }), 403],
        ['GET /nowhere', await fetch(`${origin}/nowhere`, { headers: bearer(TOKENS.alice) }), 404],
        ['POST /mcp too large', await post('x'.repeat(MAX_BODY_BYTES + 1), bearer(TOKENS.alice)), 413],
        ['POST /mcp malformed', await post('{', bearer(TOKENS.alice)), 400],
        ['GET protected-resource metadata', await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`), 200],
        ['GET authorization-server metadata', await fetch(`${origin}/.well-known/oauth-authorization-server`), 200],
        ['GET /oauth/authorize without parameters (error page)', await fetch(`${origin}/oauth/authorize`), 400],
      ];
      for (const [what, res, status] of answers) {
        expect({ what, status: res.status }).toEqual({ what, status });
        expectSecurityHeaders(res, what);
        await res.body?.cancel();
      }
    });

    it('status port: health, metrics (401 and 200), openapi, status, audit (401), 404', async () => {
      const s = portico.statusUrl;
      const answers: [string, Response, number][] = [
        ['GET /health', await fetch(`${s}/health`), 200],
        ['GET /health/live', await fetch(`${s}/health/live`), 200],
        ['GET /metrics without a token', await fetch(`${s}/metrics`), 401],
        ['GET /metrics', await fetch(`${s}/metrics`, { headers: bearer(METRICS_TOKEN) }), 200],
        ['GET /status/openapi.json', await fetch(`${s}/status/openapi.json`), 200],
        ['GET /status (admin)', await fetch(`${s}/status`, { headers: bearer(ADMIN_TOKEN) }), 200],
        ['GET /audit without a token', await fetch(`${s}/audit`), 401],
        ['GET /nowhere', await fetch(`${s}/nowhere`), 404],
      ];
      for (const [what, res, status] of answers) {
        expect({ what, status: res.status }).toEqual({ what, status });
        expectSecurityHeaders(res, `status ${what}`);
        await res.body?.cancel();
      }
    });
  });
});
