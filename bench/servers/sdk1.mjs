// @modelcontextprotocol/sdk 1.32 on express (createMcpExpressApp), after the SDK's examples.
// MODE=stateful (default): one McpServer + StreamableHTTPServerTransport per session in a map
// (simpleStreamableHttp). MODE=stateless: a new server and transport per POST
// (simpleStatelessStreamableHttp). JSON=1 answers with JSON bodies, else SSE. One `echo` tool.
import { randomUUID } from 'node:crypto';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const stateful = (process.env.MODE ?? 'stateful') === 'stateful';
const enableJsonResponse = process.env.JSON === '1';

function newServer() {
  const server = new McpServer({ name: 'sdk1', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes the text', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

const app = createMcpExpressApp({ host: '127.0.0.1' });
const transports = {};

if (stateful) {
  app.post('/mcp', async (req, res) => {
    const id = req.headers['mcp-session-id'];
    if (id && transports[id]) return transports[id].handleRequest(req, res, req.body);
    if (id || !isInitializeRequest(req.body)) {
      res.status(id ? 404 : 400).json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: id ? 'Session not found' : 'Bad Request' } });
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse,
      onsessioninitialized: (sid) => (transports[sid] = transport),
    });
    transport.onclose = () => transport.sessionId && delete transports[transport.sessionId];
    await newServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const bySession = (req, res) => {
    const t = transports[req.headers['mcp-session-id']];
    if (t) t.handleRequest(req, res);
    else res.status(404).end();
  };
  app.get('/mcp', bySession);
  app.delete('/mcp', bySession);
} else {
  app.post('/mcp', async (req, res) => {
    const server = newServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  app.get('/mcp', (req, res) => res.status(405).end());
  app.delete('/mcp', (req, res) => res.status(405).end());
}

const http = app.listen(Number(process.env.PORT), '127.0.0.1');
http.keepAliveTimeout = 65_000;
