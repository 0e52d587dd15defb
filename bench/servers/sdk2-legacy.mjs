// SDK v2 legacy era (2025-11-25) sessions: NodeStreamableHTTPServerTransport on plain node:http,
// one McpServer and transport per session kept in a Map, one `echo` tool. JSON=1 answers POSTs
// with JSON bodies instead of SSE streams (the default, as Portico answers).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const input = z.object({ text: z.string() });
const sessions = new Map();

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

async function handle(req, res) {
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  const id = req.headers['mcp-session-id'];
  const known = typeof id === 'string' ? sessions.get(id) : undefined;
  if (known) return known.handleRequest(req, res, body);
  if (id || req.method !== 'POST' || !isInitializeRequest(body)) {
    res.writeHead(id ? 404 : 400, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: id ? 'Session not found' : 'Bad Request' } }));
    return;
  }
  const transport = new NodeStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: process.env.JSON === '1',
    onsessioninitialized: (sid) => sessions.set(sid, transport),
  });
  transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
  const server = new McpServer({ name: 'sdk2-legacy', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes the text', inputSchema: input }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

const server = createServer((req, res) =>
  handle(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(400);
    res.end();
  }),
);
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
