import { Logger } from '@nestjs/common';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { ACCEPT, initialize, LEGACY } from '../support/raw-mcp';
const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

/** Reads an SSE GET stream for up to `ms` milliseconds and returns what arrived. */
async function readSse(url: string, headers: Record<string, string>, ms = 500): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { ...headers, Accept: 'text/event-stream' }, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // aborted: the stream stays open by design
  } finally {
    clearTimeout(timer);
  }
  return text;
}

/** The HTTP edge of /mcp as a hostile or confused client meets it: raw requests, exact status codes. */
describe('/mcp HTTP edge', () => {
  let portico: TestPortico;
  let url: string;

  beforeAll(async () => {
    portico = await bootPortico({ MAX_BODY_BYTES: '4096' });
    url = portico.mcpUrl;
  });

  afterAll(async () => {
    await portico?.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { ...ACCEPT, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  /** Opens a legacy session for `token`; returns its id. */
  async function openSession(token: string): Promise<string> {
    const res = await post(initialize, bearer(token));
    expect(res.status).toBe(200);
    await res.text();
    const id = res.headers.get('mcp-session-id');
    expect(id).toBeTruthy();
    const ack = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { ...bearer(token), 'Mcp-Session-Id': id!, 'MCP-Protocol-Version': LEGACY });
    expect(ack.status).toBe(202);
    return id!;
  }

  const inSession = (token: string, id: string) => ({ ...bearer(token), 'Mcp-Session-Id': id, 'MCP-Protocol-Version': LEGACY });

  describe('authentication', () => {
    it('answers a request without a token with 401 and a Bearer challenge (then Basic)', async () => {
      const res = await post(initialize);
      expect(res.status).toBe(401);
      // OAuth is not configured here: no scope to request, but the metadata is there to discover.
      const metadata = `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`;
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="Portico", resource_metadata="${metadata}", Basic realm="Portico"`);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringMatching(/Authentication required/) }, id: null });
    });

    it('answers a wrong token with 401 invalid_token, and does not echo it', async () => {
      const res = await post(initialize, bearer('not-a-real-token-at-all'));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="Portico", error="invalid_token"/);
      expect(await res.text()).not.toContain('not-a-real-token-at-all');
    });

    it('refuses a token in the query string, however its name is encoded, or in the body', async () => {
      for (const query of [`?access_token=${TOKENS.alice}`, `?x=1&%61ccess_token=${TOKENS.alice}`, `?access%5Ftoken=${TOKENS.alice}`]) {
        const res = await fetch(`${url}${query}`, { method: 'POST', headers: ACCEPT, body: JSON.stringify(initialize) });
        expect([query, res.status]).toEqual([query, 401]);
        expect(res.headers.get('www-authenticate')).toContain('invalid_request');
      }
      // RFC 6750 also allows a body parameter (passport-http-bearer reads it); MCP clients send the header only.
      const res = await fetch(url, { method: 'POST', headers: ACCEPT, body: JSON.stringify({ ...initialize, access_token: TOKENS.alice }) });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('invalid_request');
    });

    it('checks the token on every request of a session, not just the first', async () => {
      const id = await openSession(TOKENS.alice);
      const res = await post(listTools, { 'Mcp-Session-Id': id, 'MCP-Protocol-Version': LEGACY });
      expect(res.status).toBe(401);
    });
  });

  describe('origin and host', () => {
    it('answers an evil Origin with 403, even with a valid token, and logs the refusal', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      try {
        const res = await post(initialize, { ...bearer(TOKENS.alice), Origin: 'https://evil.example.com' });
        expect(res.status).toBe(403);
        expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 }, id: null });
        expect(warn).toHaveBeenCalledWith(expect.objectContaining({ origin: 'https://evil.example.com' }), 'request refused: Origin not allowed');

        // A request that passes (even one answered 404 further on) is not reported as refused.
        warn.mockClear();
        const other = await fetch(url.replace(/\/mcp$/, '/nowhere'), { headers: { ...bearer(TOKENS.alice), Origin: 'http://localhost:6274' } });
        expect(other.status).toBe(404);
        expect(warn).not.toHaveBeenCalledWith(expect.anything(), expect.stringMatching(/request refused/));
      } finally {
        warn.mockRestore();
      }
    });

    it('accepts a loopback Origin while bound to loopback', async () => {
      const res = await post(initialize, { ...bearer(TOKENS.alice), Origin: 'http://localhost:6274' });
      expect(res.status).toBe(200);
      await res.text();
    });

    it('answers a foreign Host header with 403 (DNS rebinding)', async () => {
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(url, { method: 'POST', headers: { ...ACCEPT, ...bearer(TOKENS.alice), Host: 'evil.example.com' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end(JSON.stringify(initialize));
      });
      expect(status).toBe(403);
    });
  });

  describe('body', () => {
    it('answers a body over MAX_BODY_BYTES with 413 and a JSON error', async () => {
      const big = { ...listTools, params: { _meta: { padding: 'x'.repeat(5000) } } };
      const res = await post(big, bearer(TOKENS.alice));
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { message: 'Request body exceeds the limit of 4096 bytes' } });
    });

    it('answers malformed JSON with 400 and a parse error', async () => {
      const res = await post('{"jsonrpc":', bearer(TOKENS.alice));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32700 } });
    });

    it('rejects a JSON-RPC batch with 400', async () => {
      const res = await post([initialize, listTools], bearer(TOKENS.alice));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32600, message: expect.stringMatching(/Batch/) } });
    });
  });

  describe('legacy sessions', () => {
    it('needs a session id after initialize: 400 without one', async () => {
      const res = await post(listTools, { ...bearer(TOKENS.alice), 'MCP-Protocol-Version': LEGACY });
      expect(res.status).toBe(400);
      const get = await fetch(url, { headers: { ...bearer(TOKENS.alice), Accept: 'text/event-stream' } });
      expect(get.status).toBe(400);
    });

    it('answers an unknown session id with 404', async () => {
      const res = await post(listTools, inSession(TOKENS.alice, 'no-such-session-0123456789abcdef'));
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { message: 'Session not found' } });
    });

    it('serves the session to its owner, and answers another principal with 404', async () => {
      const id = await openSession(TOKENS.alice);
      const own = await post(listTools, inSession(TOKENS.alice, id));
      expect(own.status).toBe(200);
      expect(await own.text()).toContain('get_current_time');

      const other = await post(listTools, inSession(TOKENS.bob, id));
      expect(other.status).toBe(404);
      const otherDelete = await fetch(url, { method: 'DELETE', headers: inSession(TOKENS.bob, id) });
      expect(otherDelete.status).toBe(404);

      // Bob's attempt did not harm Alice's session.
      const again = await post(listTools, inSession(TOKENS.alice, id));
      expect(again.status).toBe(200);
      await again.text();
    });

    it('ends a session on DELETE; reusing its id gets 404', async () => {
      const id = await openSession(TOKENS.alice);
      const del = await fetch(url, { method: 'DELETE', headers: inSession(TOKENS.alice, id) });
      expect(del.status).toBe(200);
      const reuse = await post(listTools, inSession(TOKENS.alice, id));
      expect(reuse.status).toBe(404);
    });

    it('replays missed events on GET with Last-Event-ID, only to the session that owns them', async () => {
      const id = await openSession(TOKENS.alice);
      const call = await post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'get_current_time', arguments: { timezone: 'UTC' } } }, inSession(TOKENS.alice, id));
      expect(call.headers.get('content-type')).toContain('text/event-stream');
      const events = (await call.text()).split('\n').filter((l) => l.startsWith('id: ')).map((l) => l.slice(4));
      expect(events.length).toBeGreaterThanOrEqual(2);
      const priming = events[0];

      // As if the connection had dropped after the priming event: the result comes back.
      const replay = await readSse(url, { ...inSession(TOKENS.alice, id), 'Last-Event-ID': priming });
      expect(replay).toContain(`id: ${events[1]}`);
      expect(replay).toMatch(/"id":7/);

      // Another session of the same principal presenting that event id gets nothing of it.
      const other = await openSession(TOKENS.alice);
      const foreign = await readSse(url, { ...inSession(TOKENS.alice, other), 'Last-Event-ID': priming });
      expect(foreign).not.toMatch(/"id":7/);
    });

    it('answers an unsupported MCP-Protocol-Version with 400', async () => {
      const id = await openSession(TOKENS.alice);
      const res = await post(listTools, { ...inSession(TOKENS.alice, id), 'MCP-Protocol-Version': '1999-01-01' });
      expect(res.status).toBe(400);
    });
  });

  describe('open endpoints', () => {
    it('answers GET / and GET /health on the main port without auth', async () => {
      const base = url.replace(/\/mcp$/, '');
      for (const path of ['/', '/health']) {
        const res = await fetch(base + path);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ status: 'ok' });
      }
    });

    it('serves Terminus liveness and readiness on the status port, and no MCP there', async () => {
      const live = await fetch(`${portico.statusUrl}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${portico.statusUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, sessions: { status: 'up' } } });
      const mcp = await fetch(`${portico.statusUrl}/mcp`, { method: 'POST', headers: ACCEPT, body: JSON.stringify(initialize) });
      expect(mcp.status).toBe(404);
    });
  });
});
