// The load client: closed loop (each connection sends its next request when the previous answer
// is in), one keep-alive HTTP/1.1 connection per undici Client, every answer verified. Three ways
// to call a tool:
//
//   legacy  2025-11-25 sessions: initialize + notifications/initialized per connection, then
//           tools/call with Mcp-Session-Id and MCP-Protocol-Version (a 404 reopens the session)
//   modern  2026-07-28: no handshake; every request carries `_meta` (protocol version, client
//           capabilities, client info) and the Mcp-Method / Mcp-Name headers
//   plain   2025-11-25 without a session (the stateless servers and the raw ceiling)
//
// The server's CPU time and RSS come from /proc/<pid> (the harness runs each server in its own
// process), so the client's own cost never counts against the server.
import { Client } from 'undici';
import { cpuTicks, rssKb, TICK_US } from './proc.mjs';

export const LEGACY_VERSION = '2025-11-25';
export const MODERN_VERSION = '2026-07-28';
const CLIENT_INFO = { name: 'portico-bench', version: '1.0.0' };
const ACCEPT = 'application/json, text/event-stream';

/** Why a response failed verification; counted per kind, the first samples kept. */
class Mismatch extends Error {
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
  }
}

/** The JSON-RPC messages of a response body, by its Content-Type (JSON, or an SSE stream's `data:` events). */
export function messagesOf(contentType, text) {
  if (contentType.startsWith('application/json')) return [JSON.parse(text)].flat();
  if (!contentType.startsWith('text/event-stream')) throw new Mismatch('content_type', contentType || '(none)');
  const out = [];
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(l[5] === ' ' ? 6 : 5))
      .join('\n');
    if (data) out.push(JSON.parse(data)); // priming events carry empty data; comments carry none
  }
  return out;
}

/** The response to request `id` among the messages (notifications and server requests are skipped). */
function responseTo(id, messages) {
  const res = messages.find((m) => m && m.id === id && ('result' in m || 'error' in m));
  if (!res) throw new Mismatch('wrong_id', `no response with id ${id} in ${JSON.stringify(messages).slice(0, 200)}`);
  if (res.error) throw new Mismatch('jsonrpc_error', JSON.stringify(res.error).slice(0, 200));
  return res.result;
}

/** One keep-alive connection to `url`. */
export class Connection {
  constructor(url, headers = {}) {
    const u = new URL(url);
    this.path = u.pathname;
    this.headers = headers;
    this.client = new Client(u.origin, { pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  }

  /** POSTs a JSON-RPC message; returns status, lower-cased headers and the body text. */
  async post(message, headers = {}) {
    const res = await this.client.request({
      path: this.path,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, ...this.headers, ...headers },
      body: JSON.stringify(message),
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }

  /** POSTs a request and returns its verified result. */
  async request(message, headers) {
    const res = await this.post(message, headers);
    if (res.status !== 200) throw new Mismatch('http_status', `${res.status} ${res.text.slice(0, 200)}`);
    let messages;
    try {
      messages = messagesOf(String(res.headers['content-type'] ?? ''), res.text);
    } catch (e) {
      throw e instanceof Mismatch ? e : new Mismatch('invalid_response', res.text.slice(0, 200));
    }
    return { result: responseTo(message.id, messages), headers: res.headers };
  }

  close() {
    return this.client.close();
  }
}

/** A legacy session on `conn`: initialize, then notifications/initialized. Returns its request headers. */
export async function openSession(conn, id = 0) {
  const { result, headers } = await conn.request({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
  });
  const sessionId = headers['mcp-session-id'];
  if (typeof sessionId !== 'string' || !sessionId) throw new Mismatch('no_session_id', 'initialize answered without Mcp-Session-Id');
  if (typeof result?.protocolVersion !== 'string') throw new Mismatch('invalid_result', JSON.stringify(result).slice(0, 200));
  const session = { 'mcp-session-id': sessionId, 'mcp-protocol-version': result.protocolVersion };
  const ack = await conn.post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  if (ack.status !== 202 && ack.status !== 200) throw new Mismatch('http_status', `initialized: ${ack.status} ${ack.text.slice(0, 200)}`);
  return session;
}

/** Builds `tools/call` requests for one era. */
function caller(era, tool) {
  if (era === 'modern') {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
    };
    const headers = { 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'tools/call', 'mcp-name': tool };
    return { headers, message: (id, text) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { text }, _meta: meta } }) };
  }
  const headers = era === 'plain' ? { 'mcp-protocol-version': LEGACY_VERSION } : {};
  return { headers, message: (id, text) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { text } } }) };
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 100) / 100;
}

class Tally {
  constructor() {
    this.ok = 0;
    this.errors = 0;
    this.kinds = {};
    this.samples = [];
    this.latencies = [];
  }

  fail(e) {
    this.errors++;
    const kind = e instanceof Mismatch ? e.kind : e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : 'network';
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    if (this.samples.length < 3) this.samples.push(String(e.message ?? e).slice(0, 300));
  }

  summary() {
    this.latencies.sort((a, b) => a - b);
    return { ok: this.ok, errors: this.errors, error_kinds: this.kinds, error_samples: this.samples, p50_ms: percentile(this.latencies, 50), p99_ms: percentile(this.latencies, 99) };
  }
}

/**
 * Closed-loop `tools/call` of an echo tool on `connections` connections: `warmupMs` unmeasured,
 * then `durationMs` measured. Every answer must carry the request's id and echo its unique text.
 * Returns rps, p50/p99, errors, and with `pid` the server's CPU µs per call, CPU % and RSS.
 */
export async function callLoad({ url, era, connections = 16, warmupMs = 2000, durationMs = 10_000, headers = {}, pid, tool = 'echo', onTick }) {
  const { headers: eraHeaders, message } = caller(era, tool);
  const conns = Array.from({ length: connections }, () => new Connection(url, { ...headers, ...eraHeaders }));
  const setup = new Tally();
  const sessions = await Promise.all(
    conns.map(async (c) => {
      if (era !== 'legacy') return {};
      try {
        return await openSession(c);
      } catch (e) {
        setup.fail(e);
        return undefined;
      }
    }),
  );
  let seq = 0;
  const phase = async (ms, tally) => {
    const end = performance.now() + ms;
    await Promise.all(
      conns.map(async (conn, c) => {
        while (performance.now() < end) {
          if (!sessions[c]) {
            try {
              sessions[c] = await openSession(conn);
            } catch (e) {
              tally.fail(e);
              continue;
            }
          }
          const id = ++seq;
          const text = `t${c}.${id}`;
          const started = performance.now();
          try {
            const { result } = await conn.request(message(id, text), sessions[c]);
            const got = result?.content?.[0]?.text;
            if (result?.isError) throw new Mismatch('tool_error', JSON.stringify(result).slice(0, 200));
            if (got !== text) throw new Mismatch('wrong_content', `expected ${text}, got ${JSON.stringify(got)?.slice(0, 100)}`);
            tally.ok++;
          } catch (e) {
            tally.fail(e);
            if (e instanceof Mismatch && e.kind === 'http_status' && e.message.startsWith('http_status: 404')) sessions[c] = undefined;
          }
          tally.latencies.push(performance.now() - started);
        }
      }),
    );
  };
  const warm = new Tally();
  if (warmupMs > 0) await phase(warmupMs, warm);
  const measured = new Tally();
  const cpu0 = pid && cpuTicks(pid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const ticker = onTick && setInterval(onTick, 1000);
  await phase(durationMs, measured);
  if (ticker) clearInterval(ticker);
  const seconds = (performance.now() - t0) / 1000;
  const client = process.cpuUsage(client0);
  const serverUs = pid ? (cpuTicks(pid) - cpu0) * TICK_US : undefined;
  await Promise.all(conns.map((c) => c.close()));
  const s = measured.summary();
  return {
    era,
    connections,
    seconds: Math.round(seconds * 100) / 100,
    rps: Math.round(s.ok / seconds),
    ...s,
    errors: s.errors + warm.errors + setup.errors,
    error_kinds: { ...setup.kinds, ...warm.kinds, ...s.error_kinds },
    error_samples: [...setup.samples, ...warm.samples, ...s.error_samples].slice(0, 3),
    warmup_ok: warm.ok,
    ...(pid && {
      server_cpu_us_per_call: s.ok ? Math.round(serverUs / s.ok) : null,
      server_cpu_pct: Math.round(serverUs / 1e4 / seconds),
      server_rss_mb: Math.round(rssKb(pid) / 102.4) / 10,
    }),
    client_cpu_pct: Math.round((client.user + client.system) / 1e4 / seconds),
  };
}

/**
 * Opens `count` legacy sessions (initialize + notifications/initialized each) over `connections`
 * connections and leaves them idle (never deleted). Stops early after `maxMs`. Returns sessions
 * per second, handshake latency, errors and with `pid` the server's CPU µs per session.
 */
export async function openSessions({ url, count, connections = 16, headers = {}, pid, maxMs = 60_000 }) {
  const conns = Array.from({ length: connections }, () => new Connection(url, headers));
  const tally = new Tally();
  let started = 0;
  const end = performance.now() + maxMs;
  const cpu0 = pid && cpuTicks(pid);
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (conn) => {
      while (started < count && performance.now() < end) {
        started++;
        const t = performance.now();
        try {
          await openSession(conn, 0);
          tally.ok++;
        } catch (e) {
          tally.fail(e);
        }
        tally.latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const serverUs = pid ? (cpuTicks(pid) - cpu0) * TICK_US : undefined;
  await Promise.all(conns.map((c) => c.close()));
  const s = tally.summary();
  return {
    sessions: s.ok,
    complete: s.ok === count,
    seconds: Math.round(seconds * 100) / 100,
    sessions_per_s: Math.round(s.ok / seconds),
    ...s,
    ...(pid && { server_cpu_us_per_session: s.ok ? Math.round(serverUs / s.ok) : null }),
  };
}
