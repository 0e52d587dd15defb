import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpHttpHandler } from '@modelcontextprotocol/server';
import { NodeRequestView, type ParsedBodyNodeHandler, toParsedBodyNodeHandler } from './node-fetch.adapter';

/** A node:http server that hands every request to the adapter with `parsed` as its parsed body. */
async function serve(fetch: McpHttpHandler['fetch'], parsed: unknown, fallback: ParsedBodyNodeHandler = async (_req, res) => void res.writeHead(418).end()) {
  const node = toParsedBodyNodeHandler({ fetch } as McpHttpHandler, fallback);
  const server: Server = createServer((req, res) => void node(req, res, parsed));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const body = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo' } };

describe('toParsedBodyNodeHandler', () => {
  it('hands the handler the parsed body and the headers, and writes a JSON answer whole with its length', async () => {
    let seen: { request: Request; parsedBody: unknown } | undefined;
    const s = await serve(async (request, options) => {
      seen = { request, parsedBody: options?.parsedBody };
      return Response.json({ jsonrpc: '2.0', id: 7, result: { ok: true } }, { headers: { 'x-test': 'yes' } });
    }, body);
    try {
      const res = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json', 'mcp-method': 'tools/call' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(JSON.stringify({ jsonrpc: '2.0', id: 7, result: { ok: true } }).length));
      expect(res.headers.get('transfer-encoding')).toBeNull();
      expect(res.headers.get('x-test')).toBe('yes');
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 7, result: { ok: true } });
      expect(seen?.parsedBody).toBe(body);
      expect(seen?.request.method).toBe('POST');
      expect(seen?.request.headers.get('mcp-method')).toBe('tools/call');
      expect(new URL(seen!.request.url).pathname).toBe('/mcp');
    } finally {
      await s.close();
    }
  });

  it('streams an SSE answer as it comes', async () => {
    let push!: (text: string) => void;
    let end!: () => void;
    const s = await serve(async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          push = (text) => controller.enqueue(new TextEncoder().encode(text));
          end = () => controller.close();
          push('event: message\ndata: 1\n\n');
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
    }, body);
    try {
      const res = await fetch(s.url, { method: 'POST', body: '{}' });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('event: message\ndata: 1\n\n');
      push('event: message\ndata: 2\n\n');
      end();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('event: message\ndata: 2\n\n');
      expect((await reader.read()).done).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('writes an SSE stream that ends at once in one piece, with its length', async () => {
    const events = 'id: 1\ndata: \n\nevent: message\ndata: {}\n\n';
    const s = await serve(async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('id: 1\ndata: \n\n'));
          setImmediate(() => {
            controller.enqueue(new TextEncoder().encode('event: message\ndata: {}\n\n'));
            controller.close();
          });
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
    }, body);
    try {
      const res = await fetch(s.url, { method: 'POST', body: '{}' });
      expect(res.headers.get('content-length')).toBe(String(events.length));
      expect(res.headers.get('transfer-encoding')).toBeNull();
      expect(await res.text()).toBe(events);
    } finally {
      await s.close();
    }
  });

  it('serves a GET without a body itself: the headers of a quiet SSE stream arrive, and the stream is cancelled when the client leaves', async () => {
    let cancelled!: () => void;
    const gone = new Promise<void>((resolve) => (cancelled = resolve));
    let method: string | undefined;
    const s = await serve(async (request) => {
      method = request.method;
      const stream = new ReadableStream<Uint8Array>({ cancel: () => cancelled() });
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
    }, undefined);
    try {
      const req = httpRequest(s.url, { method: 'GET' });
      req.on('error', () => undefined);
      const res = await new Promise<import('node:http').IncomingMessage>((resolve) => req.on('response', resolve).end());
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream');
      expect(method).toBe('GET');
      req.destroy();
      await expect(gone).resolves.toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it("aborts the request's signal when the client goes away before the answer", async () => {
    let aborted!: Promise<void>;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const s = await serve(async (request) => {
      aborted = new Promise((resolve) => request.signal.addEventListener('abort', () => resolve()));
      started();
      await aborted;
      return new Response(null, { status: 499 });
    }, body);
    try {
      const req = httpRequest(s.url, { method: 'POST' });
      req.on('error', () => undefined);
      req.end('{}');
      await running;
      req.destroy();
      await expect(aborted).resolves.toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('leaves a request without a parsed body to the fallback', async () => {
    const s = await serve(async () => Response.json({}), undefined);
    try {
      expect((await fetch(s.url, { method: 'POST', body: 'x' })).status).toBe(418);
    } finally {
      await s.close();
    }
  });

  it('answers 500 with the request id when the handler throws', async () => {
    const s = await serve(async () => {
      throw new Error('closed');
    }, body);
    try {
      const res = await fetch(s.url, { method: 'POST', body: '{}' });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32603, message: 'Internal server error' } });
    } finally {
      await s.close();
    }
  });
});

describe('NodeRequestView', () => {
  it("reads the Node request's method, URL and headers as a web Request would", () => {
    const signal = new AbortController().signal;
    const view = new NodeRequestView(
      { method: 'GET', url: '/mcp?x=1', headers: { host: 'example.test', 'mcp-session-id': 'abc', 'x-many': ['a', 'b'] } } as never,
      signal,
    );
    expect(view.method).toBe('GET');
    expect(view.url).toBe('http://example.test/mcp?x=1');
    expect(view.signal).toBe(signal);
    expect(view.headers.get('Mcp-Session-Id')).toBe('abc');
    expect(view.headers.get('x-many')).toBe('a, b');
    expect(view.headers.get('last-event-id')).toBeNull();
    expect(view.headers.has('HOST')).toBe(true);
  });
});
