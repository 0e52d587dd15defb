import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1SseTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { LiveSessionRegistry } from '../../src/transport/live-session.registry';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1' } },
};
const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

const baseOf = (portico: TestPortico) => portico.mcpUrl.replace(/\/mcp$/, '');

interface RawSse {
  /** The `data` of the `endpoint` event, as sent. */
  endpoint: string;
  sessionId: string;
  text(): string;
  /** Resolves with the match once the stream text matches `pattern`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves when the server ends the stream (or it is aborted). */
  ended: Promise<void>;
  close(): void;
}

/** Opens `GET /sse` with plain fetch and reads the raw event stream, as a proxy would see it. */
async function openRawSse(base: string, token: string): Promise<RawSse> {
  const controller = new AbortController();
  const res = await fetch(`${base}/sse`, { headers: { ...bearer(token), Accept: 'text/event-stream' }, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // aborted by close()
    }
  })();
  const waitFor = async (pattern: RegExp, ms = 5000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = text.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`stream did not match ${pattern} within ${ms} ms; got:\n${text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const [, endpoint] = await waitFor(/^event: endpoint\ndata: (.*)\n\n/);
  const sessionId = new URL(endpoint, base).searchParams.get('sessionId')!;
  return { endpoint, sessionId, text: () => text, waitFor, ended, close: () => controller.abort() };
}

function postMessage(base: string, sessionId: string | undefined, body: unknown, headers: Record<string, string> = {}) {
  const query = sessionId === undefined ? '' : `?sessionId=${encodeURIComponent(sessionId)}`;
  return fetch(`${base}/messages${query}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Opens a Streamable HTTP session on /mcp (legacy era); returns its id. */
async function openMcpSession(portico: TestPortico, token: string): Promise<string> {
  const res = await fetch(portico.mcpUrl, {
    method: 'POST',
    headers: { ...bearer(token), Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...initialize, params: { ...initialize.params, protocolVersion: '2025-11-25' } }),
  });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

/** Runs `fn` against an instance booted with `env`, then stops it. */
async function withPortico(env: Record<string, string>, fn: (portico: TestPortico, base: string) => Promise<void>): Promise<void> {
  const portico = await bootPortico(env);
  try {
    await fn(portico, baseOf(portico));
  } finally {
    await portico.stop();
  }
}

/** A fetch that remembers the session id of the `/messages` URL the client posts to. */
function recordingFetch() {
  let sessionId: string | undefined;
  const record = (url: string | URL, init?: RequestInit) => {
    sessionId ??= new URL(url).searchParams.get('sessionId') ?? undefined;
    return fetch(url, init);
  };
  return { fetch: record, sessionId: () => sessionId };
}

function expectTime(result: { structuredContent?: unknown; isError?: boolean }) {
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ timezone: 'Asia/Kolkata', utc_offset: '+05:30' });
}

/** The 2024-11-05 HTTP+SSE transport (`GET /sse` + `POST /messages`) with the official clients and raw HTTP. */
describe('legacy HTTP+SSE on /sse', () => {
  let portico: TestPortico;
  let base: string;

  beforeAll(async () => {
    portico = await bootPortico();
    base = baseOf(portico);
  });

  afterAll(async () => {
    await portico?.stop();
  });

  it('v1 client (@modelcontextprotocol/sdk SSEClientTransport): connect, list, call, audited with era legacy and the SSE session id', async () => {
    // v1 sends requestInit.headers on the EventSource's GET as well as on every POST: no eventSourceInit needed.
    const recorder = recordingFetch();
    const client = new V1Client({ name: 'e2e-v1-sse', version: '1.0.0' });
    const transport = new V1SseTransport(new URL(`${base}/sse`), { requestInit: { headers: bearer(TOKENS.alice) }, fetch: recorder.fetch });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()?.name).toBe('portico');

      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['convert_time', 'get_current_time']));
      expectTime((await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Asia/Kolkata' } })) as never);
    } finally {
      await client.close();
    }

    const sessionId = recorder.sessionId();
    // 192 random bits in base64url, like /mcp session ids (test/hostile/security.spec.ts).
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const rows = await portico.auditRows(`kind = 'tool_call' AND session_id = $1`, [sessionId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      era: 'legacy',
      tool: 'get_current_time',
      outcome: 'ok',
      principal_id: 'token:alice',
      auth_method: 'bearer',
      request_id: expect.any(String),
    });
  });

  it('v2 client (@modelcontextprotocol/client SSEClientTransport, token provider): connect, list, call', async () => {
    const client = new Client({ name: 'e2e-v2-sse', version: '1.0.0' });
    const transport = new SSEClientTransport(new URL(`${base}/sse`), { authProvider: { token: async () => TOKENS.alice } });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('get_current_time');
      expectTime(await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Asia/Kolkata' } }));
    } finally {
      await client.close();
    }
  });

  it('announces /messages?sessionId=… first, accepts posts with 202, and answers on the stream', async () => {
    const stream = await openRawSse(base, TOKENS.alice);
    try {
      expect(stream.endpoint).toBe(`/messages?sessionId=${stream.sessionId}`);

      const res = await postMessage(base, stream.sessionId, initialize, bearer(TOKENS.alice));
      expect(res.status).toBe(202);
      await res.text();
      const [, data] = await stream.waitFor(/event: message\ndata: (\{.*"id":1\})\n\n/);
      expect(JSON.parse(data)).toMatchObject({ id: 1, result: { serverInfo: { name: 'portico' } } });
    } finally {
      stream.close();
    }
  });

  describe('authentication', () => {
    it('answers GET /sse and POST /messages without a token with 401 and a Bearer challenge (then Basic)', async () => {
      const sse = await fetch(`${base}/sse`, { headers: { Accept: 'text/event-stream' } });
      expect(sse.status).toBe(401);
      const challenge = `Bearer realm="Portico", resource_metadata="${base}/.well-known/oauth-protected-resource/mcp", Basic realm="Portico"`;
      expect(sse.headers.get('www-authenticate')).toBe(challenge);
      await sse.text();

      const stream = await openRawSse(base, TOKENS.alice);
      try {
        const post = await postMessage(base, stream.sessionId, listTools);
        expect(post.status).toBe(401);
        expect(post.headers.get('www-authenticate')).toBe(challenge);
        expect(await post.json()).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringMatching(/Authentication required/) }, id: null });
      } finally {
        stream.close();
      }
    });

    it('answers a wrong token with 401 invalid_token on both routes', async () => {
      const sse = await fetch(`${base}/sse`, { headers: bearer('not-a-real-token-at-all') });
      expect(sse.status).toBe(401);
      expect(sse.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      const post = await postMessage(base, 'whatever', listTools, bearer('not-a-real-token-at-all'));
      expect(post.status).toBe(401);
      expect(post.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });
  });

  describe('sessions', () => {
    it("answers another principal's post to a session with 404, and the owner's session keeps working", async () => {
      const recorder = recordingFetch();
      const client = new V1Client({ name: 'e2e-owner', version: '1.0.0' });
      let stolen: string;
      try {
        await client.connect(new V1SseTransport(new URL(`${base}/sse`), { requestInit: { headers: bearer(TOKENS.alice) }, fetch: recorder.fetch }));
        stolen = recorder.sessionId()!;

        const call = { jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'get_current_time', arguments: {} } };
        const bob = await postMessage(base, stolen, call, bearer(TOKENS.bob));
        expect(bob.status).toBe(404);
        expect(await bob.json()).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });

        expectTime((await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Asia/Kolkata' } })) as never);
      } finally {
        await client.close();
      }
      expect(await portico.auditRows(`session_id = $1 AND principal_id = 'token:bob'`, [stolen])).toEqual([]);
    });

    it('answers an unknown session id with 404, a missing one with 400', async () => {
      const unknown = await postMessage(base, '6f1e2d3c-4b5a-4978-8877-665544332211', listTools, bearer(TOKENS.alice));
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: { message: 'Session not found' } });

      const missing = await postMessage(base, undefined, listTools, bearer(TOKENS.alice));
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ error: { message: expect.stringMatching(/sessionId/) } });
    });

    it('answers a /mcp session id presented on /messages with 404', async () => {
      const res = await postMessage(base, await openMcpSession(portico, TOKENS.alice), listTools, bearer(TOKENS.alice));
      expect(res.status).toBe(404);
    });

    it('forgets the session when the client closes its stream', async () => {
      const stream = await openRawSse(base, TOKENS.alice);
      stream.close();
      await stream.ended;
      let status = 0;
      for (let i = 0; i < 50 && status !== 404; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const res = await postMessage(base, stream.sessionId, listTools, bearer(TOKENS.alice));
        status = res.status;
        await res.text();
      }
      expect(status).toBe(404);
    });

    it('answers HEAD /sse without opening a session', async () => {
      const before = portico.app.get(LiveSessionRegistry).size;
      const res = await fetch(`${base}/sse`, { method: 'HEAD', headers: bearer(TOKENS.alice), signal: AbortSignal.timeout(2000) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(portico.app.get(LiveSessionRegistry).size).toBe(before);
    });

    it('rejects a JSON-RPC batch with 400', async () => {
      const stream = await openRawSse(base, TOKENS.alice);
      try {
        const res = await postMessage(base, stream.sessionId, [initialize, listTools], bearer(TOKENS.alice));
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ error: { code: -32600, message: expect.stringMatching(/Batch/) } });
      } finally {
        stream.close();
      }
    });
  });

  describe('origin', () => {
    it('answers an evil Origin with 403 on both routes, even with a valid token', async () => {
      const evil = { ...bearer(TOKENS.alice), Origin: 'https://evil.example.com' };
      const sse = await fetch(`${base}/sse`, { headers: evil });
      expect(sse.status).toBe(403);
      await sse.text();

      const stream = await openRawSse(base, TOKENS.alice);
      try {
        const post = await postMessage(base, stream.sessionId, listTools, evil);
        expect(post.status).toBe(403);
      } finally {
        stream.close();
      }
    });
  });
});

describe('legacy HTTP+SSE with other settings', () => {
  it('counts toward the per-principal cap together with /mcp sessions: the oldest SSE stream is ended', () =>
    withPortico({ SESSION_MAX_PER_PRINCIPAL: '1' }, async (portico, base) => {
      const stream = await openRawSse(base, TOKENS.alice);
      const bobs = await openRawSse(base, TOKENS.bob);
      try {
        // Alice opens a Streamable HTTP session on /mcp: her SSE session is the oldest over the cap of 1.
        await openMcpSession(portico, TOKENS.alice);

        await stream.ended;
        const res = await postMessage(base, stream.sessionId, listTools, bearer(TOKENS.alice));
        expect(res.status).toBe(404);
        // Bob's session is his own: untouched.
        const bob = await postMessage(base, bobs.sessionId, initialize, bearer(TOKENS.bob));
        expect(bob.status).toBe(202);
      } finally {
        stream.close();
        bobs.close();
      }
    }));

  it('behind a proxy (PUBLIC_BASE_URL): announces the messages path under its prefix, which clients resolve on the proxy', () =>
    withPortico({ PUBLIC_BASE_URL: 'https://proxy.example/prefix/' }, async (_, base) => {
      const stream = await openRawSse(base, TOKENS.alice);
      try {
        expect(stream.endpoint).toMatch(/^\/prefix\/messages\?sessionId=[A-Za-z0-9_-]{32}$/);
        // What clients do with it (new URL(data, <the /sse URL they opened>)):
        expect(new URL(stream.endpoint, 'https://proxy.example/prefix/sse').href).toBe(
          `https://proxy.example/prefix/messages?sessionId=${stream.sessionId}`,
        );

        // The proxy strips /prefix: Portico itself still serves /messages.
        const res = await postMessage(base, stream.sessionId, initialize, bearer(TOKENS.alice));
        expect(res.status).toBe(202);
        await stream.waitFor(/event: message\ndata: \{.*"id":1\}/);
      } finally {
        stream.close();
      }
    }));

  it('switched off (LEGACY_SSE_ENABLED=false): answers /sse and /messages with 404, with or without a token, and still serves /mcp', () =>
    withPortico({ LEGACY_SSE_ENABLED: 'false' }, async (portico, base) => {
      for (const headers of [{}, bearer(TOKENS.alice)]) {
        const sse = await fetch(`${base}/sse`, { headers: { ...headers, Accept: 'text/event-stream' } });
        expect(sse.status).toBe(404);
        await sse.text();
        const post = await postMessage(base, '6f1e2d3c-4b5a-4978-8877-665544332211', initialize, headers);
        expect(post.status).toBe(404);
        await post.text();
      }
      expect(await openMcpSession(portico, TOKENS.alice)).toBeTruthy();
    }));

  it('shutdown with an open /sse stream ends the stream and stops promptly', async () => {
    const portico = await bootPortico();
    const client = new V1Client({ name: 'e2e-shutdown', version: '1.0.0' });
    try {
      await client.connect(new V1SseTransport(new URL(`${baseOf(portico)}/sse`), { requestInit: { headers: bearer(TOKENS.alice) } }));
      await client.listTools();

      const started = Date.now();
      await portico.stop();
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await client.close().catch(() => undefined);
    }
  });
});
