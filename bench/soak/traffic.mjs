// The soak's clients: each action is one thing a real client (or a scanner) does
// to Portico, over plain HTTP with Node's fetch, and resolves to the HTTP status
// that decided its outcome. Nothing here closes what a careless client would not.
import http from 'node:http';

export const MODERN = '2026-07-28';
export const LEGACY = '2025-11-25';
const JSON_SSE = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

const modernCall = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'get_current_time',
    arguments: { timezone: 'Europe/Berlin' },
    _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
  },
});
const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'soak', version: '1' } },
});
const initialized = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
const legacyCall = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_current_time', arguments: { timezone: 'UTC' } } });

/** Reads a response body until `pattern` shows up (or the body ends); returns what was read. */
async function readUntil(res, pattern) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { text, reader };
}

/** The first status that is not `expected`, else `expected`. */
const worst = (expected, ...statuses) => statuses.find((s) => s !== expected) ?? expected;

/**
 * The traffic mix, by weight. `ctx`: { mcpUrl, baseUrl, auth, ttlMs } (auth: headers of a valid
 * credential; ttlMs: the session idle TTL). Every action returns { status, expected, tolerated? }
 * so the runner can count surprises (`tolerated`: a session that expired while the client stalled).
 */
export const ACTIONS = {
  /** A modern-era (stateless) tool call. */
  async modern_call({ mcpUrl, auth }) {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...auth, ...JSON_SSE, 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'get_current_time' },
      body: modernCall,
    });
    const text = await res.text();
    return { status: res.status === 200 && !text.includes('Europe/Berlin') ? 'bad-body' : res.status, expected: 200 };
  },

  /**
   * A legacy session opened, used once and abandoned without DELETE (the
   * 1,398-opened-115-closed client); every other one also opens its GET
   * stream and drops it. Only the idle TTL can reclaim these.
   */
  async legacy_abandon(ctx) {
    return legacySession(ctx, { getStream: Math.random() < 0.5, del: false });
  },

  /** A well-behaved legacy client: opens, calls, ends its session with DELETE. */
  async legacy_delete(ctx) {
    return legacySession(ctx, { getStream: false, del: true });
  },

  /** Legacy HTTP+SSE (2024-11-05): GET /sse, initialize over POST /messages, then the stream dropped. */
  async sse_drop({ baseUrl, auth }) {
    const cut = new AbortController();
    const res = await fetch(`${baseUrl}/sse`, { headers: { ...auth, Accept: 'text/event-stream' }, signal: cut.signal });
    if (res.status !== 200) {
      await res.body?.cancel();
      return { status: res.status, expected: 200 };
    }
    try {
      const { text } = await readUntil(res, /event: endpoint\ndata: (\S+)/);
      const endpoint = text.match(/event: endpoint\ndata: (\S+)/)?.[1];
      if (!endpoint) return { status: 'no-endpoint', expected: 200 };
      const post = await fetch(new URL(endpoint, baseUrl), { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: initialize });
      await post.text();
      return { status: worst(202, post.status) === 202 ? 200 : post.status, expected: 200 };
    } finally {
      cut.abort();
    }
  },

  /**
   * A scanner with wrong or missing credentials, from 127.0.0.2 so that the
   * per-IP lockout it earns does not lock the honest clients (127.0.0.1) out.
   */
  async auth_failure({ mcpUrl }) {
    const url = new URL(mcpUrl);
    const variants = [{ Authorization: `Bearer wrong-${Math.random().toString(36).slice(2)}` }, {}, { Authorization: 'Basic bm9ib2R5Om5vcGU=' }];
    const headers = { ...variants[Math.floor(Math.random() * variants.length)], ...JSON_SSE, 'MCP-Protocol-Version': MODERN };
    const status = await new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, localAddress: '127.0.0.2' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(modernCall);
    });
    // 401 while it guesses, 429 once its IP is locked out.
    return { status: status === 429 ? 401 : status, expected: 401 };
  },
};

async function legacySession({ mcpUrl, auth, ttlMs }, { getStream, del }) {
  const open = await fetch(mcpUrl, { method: 'POST', headers: { ...auth, ...JSON_SSE }, body: initialize });
  await open.text();
  const sid = open.headers.get('mcp-session-id');
  if (open.status !== 200 || !sid) return { status: open.status === 200 ? 'no-session-id' : open.status, expected: 200 };
  const session = { ...auth, ...JSON_SSE, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': LEGACY };
  let expired = false;
  let previousSent = Date.now();
  /** One request in the session; a 404 counts as expiry only when the session may have been idle past its TTL. */
  const send = async (init, expected, read = (res) => res.text()) => {
    const sent = Date.now();
    const res = await fetch(mcpUrl, init);
    const text = await read(res);
    // The server saw the session idle at most from our previous request's sending to this answer.
    if (res.status === 404 && Date.now() - previousSent > ttlMs) expired = true;
    previousSent = sent;
    return res.status === expected ? 200 : res.status === 200 && text !== undefined && !text.includes('"result"') ? 'bad-body' : res.status;
  };
  const statuses = [await send({ method: 'POST', headers: session, body: initialized }, 202), await send({ method: 'POST', headers: session, body: legacyCall }, 200)];
  if (getStream) {
    const cut = new AbortController();
    const headers = { ...auth, Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': LEGACY };
    statuses.push(await send({ headers, signal: cut.signal }, 200, () => cut.abort()));
  }
  if (del) statuses.push(await send({ method: 'DELETE', headers: session }, 200));
  const status = worst(200, ...statuses);
  // A stalled machine (seconds of lag) can let a 5 s TTL run out mid-session: counted apart, not as an error.
  return { status: status === 404 && expired ? 'expired' : status, expected: 200, tolerated: status === 404 && expired };
}

/** Weights of the mix (they need not sum to 1). */
export const MIX = { modern_call: 0.4, legacy_abandon: 0.3, legacy_delete: 0.05, sse_drop: 0.1, auth_failure: 0.15 };

/** Picks an action by weight. */
export function pick(mix = MIX) {
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  let r = Math.random() * total;
  for (const [name, weight] of Object.entries(mix)) if ((r -= weight) < 0) return name;
  return Object.keys(mix)[0];
}
