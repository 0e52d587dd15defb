import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server';

/** The (req, res, parsedBody) handler this adapter returns, as the SDK's `toNodeHandler` does. */
export type ParsedBodyNodeHandler = (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, parsedBody: unknown) => Promise<void>;

/**
 * A web `Request` whose `signal` is the given one. `new Request(url, { signal })`
 * makes a second signal that follows the first (a listener and a weak
 * registration per request), which cost more than the rest of the request
 * object; the SDK only reads `request.signal`.
 */
function requestWithSignal(url: string, init: RequestInit, signal: AbortSignal): Request {
  const request = new Request(url, init);
  Object.defineProperty(request, 'signal', { value: signal, enumerable: true });
  return request;
}

/**
 * Adapts the SDK's web-standard MCP handler to Node for requests whose JSON
 * body the app has already parsed, at a fraction of `toNodeHandler`'s cost:
 * - the web `Request` carries no body: `toNodeHandler` serialized the parsed
 *   body again and wrapped it in a stream nobody reads (the handler is given
 *   `parsedBody`), and gave it a signal of its own (see {@link requestWithSignal});
 * - a response with a complete body (JSON, or an error) is written with one
 *   `end()` and a `Content-Length`, not as a chunked stream written chunk by
 *   chunk; an SSE stream is still piped as it comes, honouring backpressure.
 * Requests without a parsed body (not JSON) go to `fallback`, the SDK's own adapter.
 */
export function toParsedBodyNodeHandler(handler: McpHttpHandler, fallback: ParsedBodyNodeHandler): ParsedBodyNodeHandler {
  return async (req, res, parsedBody) => {
    if (parsedBody === undefined) return fallback(req, res, parsedBody);
    let finished = false;
    const abort = new AbortController();
    res.on('close', () => {
      if (!finished) abort.abort();
    });
    if (res.destroyed) abort.abort();
    let response: Response;
    try {
      const headers = new Headers();
      for (const name in req.headers) {
        const value = req.headers[name];
        if (value === undefined || name.startsWith(':')) continue;
        if (Array.isArray(value)) for (const item of value) headers.append(name, item);
        else headers.set(name, value);
      }
      const host = req.headers.host ?? 'localhost';
      const request = requestWithSignal(`http://${host}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers }, abort.signal);
      response = await handler.fetch(request, { ...(req.auth !== undefined && { authInfo: req.auth }), parsedBody });
    } catch {
      response = Response.json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: echoableId(parsedBody) }, { status: 500 });
    }
    const head: Record<string, string> = {};
    for (const [name, value] of response.headers) head[name] = value;
    if (response.body === null) {
      finished = true;
      res.writeHead(response.status, head).end();
      return;
    }
    if (!head['content-type']?.startsWith('text/event-stream')) {
      const body = Buffer.from(await response.arrayBuffer());
      finished = true;
      head['content-length'] = String(body.byteLength);
      res.writeHead(response.status, head).end(body);
      return;
    }
    res.writeHead(response.status, head);
    await pipeStream(response.body, res, abort.signal);
    finished = true;
    res.end();
  };
}

/** Writes an SSE body as it comes, waiting for `drain` when the socket is full; stops when the client leaves. */
async function pipeStream(body: ReadableStream<Uint8Array>, res: ServerResponse, signal: AbortSignal): Promise<void> {
  let drained: (() => void) | undefined;
  const release = () => {
    drained?.();
    drained = undefined;
  };
  res.on('drain', release);
  signal.addEventListener('abort', release, { once: true });
  try {
    for await (const chunk of body) {
      if (signal.aborted) break;
      if (!res.write(chunk) && !signal.aborted) await new Promise<void>((resolve) => (drained = resolve));
    }
  } catch {
    // The stream failed or was cancelled: end the response.
  } finally {
    res.off('drain', release);
    signal.removeEventListener('abort', release);
  }
}

/** The id to answer an error with: the request's, when the body is one request with a usable id. */
function echoableId(body: unknown): string | number | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { method, id } = body as { method?: unknown; id?: unknown };
  if (typeof method !== 'string') return null;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
