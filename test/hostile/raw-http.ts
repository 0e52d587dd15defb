import { connect } from 'node:net';

/** A response as it came off the socket: nothing normalised. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The status line and header lines as sent. */
  head: string;
  body: string;
  /** True when the server kept the connection open past the timeout (a stream). */
  open: boolean;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Sent as given, in order; `Host`, `Content-Length` and `Connection: close` are added unless present (case-insensitive). */
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** The request bytes: values are NOT validated, so CR/LF, NUL and non-ASCII reach the server as written. */
export function requestBytes(host: string, { method = 'POST', path, headers = {}, body }: RawRequest): Buffer {
  const has = (name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const lines = [`${method} ${path} HTTP/1.1`];
  if (!has('host')) lines.push(`Host: ${host}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (!has('content-length') && !has('transfer-encoding') && (body !== undefined || method === 'POST')) lines.push(`Content-Length: ${payload.length}`);
  if (!has('connection')) lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

/** Decodes a chunked body as far as it goes (a stream cut at the timeout yields what arrived). */
function dechunk(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(raw.subarray(eol + 2, Math.min(raw.length, eol + 2 + size)));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Parses the first response in `raw` (a server may answer a malformed request and close). */
export function parseResponse(raw: Buffer, open: boolean): RawResponse {
  raw = skipInterim(raw);
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let rest = end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) rest = dechunk(rest);
  else if (headers['content-length'] !== undefined) rest = rest.subarray(0, Number(headers['content-length']));
  return { status, headers, head, body: rest.toString('utf8'), open };
}

/** Drops interim answers (100 Continue), which precede the real one. */
function skipInterim(raw: Buffer): Buffer {
  while (/^HTTP\/1\.[01] 1\d\d /.test(raw.subarray(0, 16).toString('latin1')) && raw.indexOf('\r\n\r\n') > 0) raw = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
  return raw;
}

/** True when `raw` holds a whole final response (its length reached, or its last chunk). */
function complete(raw: Buffer): boolean {
  raw = skipInterim(raw);
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0 || !/^HTTP\/1\.[01] [2-5]\d\d/.test(raw.subarray(0, 16).toString('latin1'))) return false;
  const { headers } = parseResponse(raw.subarray(0, end + 4), false);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) return raw.subarray(-5).toString('latin1') === '0\r\n\r\n' && raw.length > end + 4;
  return headers['content-length'] !== undefined && raw.length - end - 4 >= Number(headers['content-length']);
}

/**
 * Sends `bytes` on a fresh TCP connection to `origin` (http://host:port) and
 * reads until the server closes, or `timeoutMs` (a stream), whichever is first.
 */
export function sendRaw(origin: string, bytes: Buffer, timeoutMs = 3000): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) });
    let done = false;
    const finish = (open: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks), open));
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      // SSE answers say `Connection: keep-alive` whatever the client asked: stop at the end of the message.
      if (complete(Buffer.concat(chunks))) finish(false);
    });
    socket.on('end', () => finish(false));
    socket.on('close', () => finish(false));
    // A server may reset after answering a request it refused mid-body: keep what was answered.
    socket.on('error', (e) => (chunks.length ? finish(false) : (done = true, clearTimeout(timer), reject(e))));
    socket.write(bytes);
  });
}

/** {@link sendRaw} of a {@link RawRequest}. */
export function send(origin: string, request: RawRequest, timeoutMs?: number): Promise<RawResponse> {
  return sendRaw(origin, requestBytes(new URL(origin).host, request), timeoutMs);
}

/** What must never reach a client: stack frames, source paths, module paths. */
export const LEAK = /^\s*at \S.*(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$|\/work\/|\/home\/|node_modules\/|\bsrc\/[\w/.-]+\.(?:ts|js)\b|\.(?:ts|js):\d+:\d+/m;

/**
 * The problems of one answer (empty when it is well formed): an HTTP status
 * in 2xx-4xx, no stack trace or file path in the head or body, and (on /mcp)
 * a JSON-RPC message when it is a JSON 200 or 400.
 */
export function problems(res: RawResponse, { jsonRpc = false }: { jsonRpc?: boolean } = {}): string[] {
  const found: string[] = [];
  if (!(res.status >= 200 && res.status < 500)) found.push(`status ${res.status}`);
  if (LEAK.test(res.body) || LEAK.test(res.head)) found.push(`leak: ${(LEAK.exec(res.body) ?? LEAK.exec(res.head))![0]}`);
  if (jsonRpc && (res.status === 200 || res.status === 400) && /application\/json/.test(res.headers['content-type'] ?? '')) {
    try {
      const msg = JSON.parse(res.body) as Record<string, unknown>;
      if (msg.jsonrpc !== '2.0' || !('id' in msg) || !('result' in msg || 'error' in msg)) found.push(`not JSON-RPC: ${res.body.slice(0, 200)}`);
    } catch {
      found.push(`not JSON: ${res.body.slice(0, 200)}`);
    }
  }
  return found;
}
