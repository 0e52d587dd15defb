import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
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

/** What the SDK's web-standard handlers take besides the request. */
export interface WebHandlerOptions {
  authInfo?: AuthInfo;
  parsedBody?: unknown;
}

/** A web-standard MCP handler: a session transport (`WebStandardStreamableHTTPServerTransport`), or `McpHttpHandler.fetch` wrapped. */
export interface WebHandler {
  handleRequest(request: Request, options: WebHandlerOptions): Promise<Response>;
}

/** How {@link serveWebHandler} serves an exchange. */
export interface ServeOptions {
  /** Sees the status before the body is written. */
  answered?: (status: number) => void;
  /**
   * Hand the handler a {@link NodeRequestView} instead of a web `Request`:
   * for the SDK's session transport (`WebStandardStreamableHTTPServerTransport`),
   * which reads only `method` and `headers.get()`.
   */
  requestView?: boolean;
}

/** The request as a web `Request`, its headers copied, its signal the given one. */
function webRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const host = req.headers.host ?? 'localhost';
  return requestWithSignal(`http://${host}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers }, signal);
}

/**
 * What the SDK's session transport reads of a request (`method`,
 * `headers.get()`), over the Node request, without copying it: a web
 * `Request` costs a headers list, a URL and an abort signal of its own
 * (undici makes one in every constructor). The SDK also hands the request
 * to handlers as `ctx.http.req`; Portico's tool context does not pass it on.
 */
export class NodeRequestView {
  readonly method: string;
  readonly headers: NodeHeadersView;

  constructor(
    private readonly req: IncomingMessage,
    readonly signal: AbortSignal,
  ) {
    this.method = req.method ?? 'POST';
    this.headers = new NodeHeadersView(req.headers);
  }

  get url(): string {
    return `http://${this.req.headers.host ?? 'localhost'}${this.req.url ?? '/'}`;
  }
}

/** `Headers.get()` and `has()` over Node's parsed headers (names already lower case). */
class NodeHeadersView {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
}

/**
 * Adapts the SDK's web-standard MCP handler to Node for requests whose JSON
 * body the app has already parsed, at a fraction of `toNodeHandler`'s cost
 * (see {@link serveWebHandler}). POSTs without a parsed body (not JSON) go to
 * `fallback`, the SDK's own adapter.
 */
export function toParsedBodyNodeHandler(handler: McpHttpHandler, fallback: ParsedBodyNodeHandler): ParsedBodyNodeHandler {
  const web: WebHandler = { handleRequest: (request, options) => handler.fetch(request, options) };
  return (req, res, parsedBody) => (needsFallback(req, parsedBody) ? fallback(req, res, parsedBody) : serveWebHandler(web, req, res, parsedBody));
}

/** A POST whose body the app did not parse (not JSON): only the SDK's own adapter reads it. */
export function needsFallback(req: IncomingMessage, parsedBody: unknown): boolean {
  return parsedBody === undefined && req.method === 'POST';
}

/**
 * Serves one exchange through a web-standard handler, at a fraction of the
 * cost of the SDK's Node adapters (`toNodeHandler`, and the hono listener
 * that `NodeStreamableHTTPServerTransport` builds on every request):
 * - the web `Request` carries no body: the SDK adapters serialized the parsed
 *   body again and wrapped it in a stream nobody reads (the handler is given
 *   `parsedBody`), and gave it a signal of its own (see {@link requestWithSignal});
 *   a GET or DELETE has no body to carry;
 * - a response with a complete body (JSON, or an error) is written with one
 *   `end()` and a `Content-Length`, not as a chunked stream written chunk by
 *   chunk; an SSE stream is piped as it comes, honouring backpressure, its
 *   headers sent at the end of the tick even before a first event (clients
 *   wait for them), and cancelled when the client leaves.
 * Call it only for requests with a parsed body or without a body (see {@link needsFallback}).
 */
export async function serveWebHandler(
  handler: WebHandler,
  req: IncomingMessage & { auth?: AuthInfo },
  res: ServerResponse,
  parsedBody: unknown,
  { answered, requestView = false }: ServeOptions = {},
): Promise<void> {
  let finished = false;
  const abort = new AbortController();
  res.once('close', () => {
    if (!finished) abort.abort();
  });
  if (res.destroyed) abort.abort();
  let response: Response;
  try {
    const request = requestView ? (new NodeRequestView(req, abort.signal) as unknown as Request) : webRequest(req, abort.signal);
    const options: WebHandlerOptions = { parsedBody };
    if (req.auth !== undefined) options.authInfo = req.auth;
    response = await handler.handleRequest(request, options);
  } catch {
    response = Response.json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: echoableId(parsedBody) }, { status: 500 });
  }
  answered?.(response.status);
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
  await pipeStream(response.body, res, response.status, head, abort.signal);
  finished = true;
}

/**
 * Writes an SSE body. What the stream holds within a timer's turn is
 * gathered first: when that is the whole stream (a quick call's priming
 * event, answer and end), it leaves in one write with a `Content-Length`,
 * as the SDK's hono adapter does; otherwise the headers and what came go out
 * then (clients wait for the headers even before a first event), and the rest
 * is written as it comes, waiting for `drain` when the socket is full. Stops
 * (cancelling the stream, so the SDK forgets it) when the client leaves.
 */
async function pipeStream(body: ReadableStream<Uint8Array>, res: ServerResponse, status: number, head: Record<string, string>, signal: AbortSignal): Promise<void> {
  const reader = body.getReader();
  let drained: (() => void) | undefined;
  const release = () => {
    drained?.();
    drained = undefined;
  };
  const stop = () => {
    release();
    reader.cancel().catch(() => undefined);
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    let pending = reader.read();
    const gathered: Uint8Array[] = [];
    let wake!: () => void;
    const turn = new Promise<undefined>((resolve) => (wake = () => resolve(undefined)));
    const timer = setTimeout(wake, 0);
    for (;;) {
      const next = await Promise.race([pending, turn]);
      if (next === undefined) break;
      if (next.done) {
        clearTimeout(timer);
        const whole = Buffer.concat(gathered);
        head['content-length'] = String(whole.byteLength);
        res.writeHead(status, head).end(whole);
        return;
      }
      gathered.push(next.value);
      pending = reader.read();
    }
    res.writeHead(status, head);
    if (gathered.length === 0) res.flushHeaders();
    for (const chunk of gathered) res.write(chunk);
    res.on('drain', release);
    for (;;) {
      const { done, value } = await pending;
      if (done || signal.aborted) break;
      res.cork();
      process.nextTick(uncork, res);
      if (!res.write(value) && !signal.aborted) await new Promise<void>((resolve) => (drained = resolve));
      pending = reader.read();
    }
  } catch {
    // The stream failed or was cancelled: end the response.
  } finally {
    res.off('drain', release);
    signal.removeEventListener('abort', stop);
    reader.releaseLock();
  }
  if (!res.headersSent) res.writeHead(status, head);
  res.end();
}

function uncork(res: ServerResponse): void {
  res.uncork();
}

/** The id to answer an error with: the request's, when the body is one request with a usable id. */
function echoableId(body: unknown): string | number | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { method, id } = body as { method?: unknown; id?: unknown };
  if (typeof method !== 'string') return null;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
