// The load client's own check, run before every benchmark: against a deliberately broken server
// (wrong id, wrong text, HTTP 500, wrong Content-Type, JSON-RPC error, isError, in JSON and SSE
// framing) every broken answer must count as an error of its kind and every good one as a call.
import { createServer } from 'node:http';
import { callLoad } from './load.mjs';

const BROKEN = {
  ok: (m) => m,
  wrong_id: (m) => ({ ...m, id: m.id + 1 }),
  wrong_content: (m) => ({ ...m, result: { content: [{ type: 'text', text: 'something else' }] } }),
  jsonrpc_error: (m) => ({ jsonrpc: '2.0', id: m.id, error: { code: -32603, message: 'broken' } }),
  tool_error: (m) => ({ ...m, result: { ...m.result, isError: true } }),
};
const kinds = [...Object.keys(BROKEN), 'http_status', 'content_type'];

/** Throws when the client lets a broken answer through or rejects a good one. */
export async function selfCheck() {
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const m = JSON.parse(body);
      const kind = kinds[n % kinds.length];
      const sse = Math.floor(n++ / kinds.length) % 2 === 1;
      if (kind === 'http_status') return void res.writeHead(500).end('broken');
      const answer = { jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: m.params.arguments.text }] } };
      const text = JSON.stringify(kind === 'content_type' ? answer : BROKEN[kind](answer));
      if (kind === 'content_type') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
      if (sse) res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`event: message\ndata: ${text}\n\n`);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await callLoad({ url: `http://127.0.0.1:${server.address().port}/mcp`, era: 'plain', connections: 1, warmupMs: 0, durationMs: 300 });
    // Answers cycle through `kinds` in order (JSON framing, then SSE, ...): the exact count of each is known.
    const total = r.ok + r.errors;
    const count = (i) => Math.floor(total / kinds.length) + (i < total % kinds.length ? 1 : 0);
    const wrong = kinds.filter((k, i) => (k === 'ok' ? r.ok : (r.error_kinds[k] ?? 0)) !== count(i));
    if (total < 2 * kinds.length || wrong.length) {
      throw new Error(`load client self-check failed (${wrong.join(', ') || 'too few answers'}): ${JSON.stringify({ ok: r.ok, errors: r.error_kinds })}`);
    }
  } finally {
    server.close();
  }
}
