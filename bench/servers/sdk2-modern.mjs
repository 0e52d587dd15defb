// SDK v2 modern era (2026-07-28): createMcpHandler on plain node:http, one McpServer per request
// from the factory (the SDK's stateless idiom), one `echo` tool. Legacy traffic is rejected.
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const input = z.object({ text: z.string() });
const handler = createMcpHandler(
  () => {
    const server = new McpServer({ name: 'sdk2-modern', version: '1.0.0' });
    server.registerTool('echo', { description: 'Echoes the text', inputSchema: input }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
    return server;
  },
  { legacy: 'reject' },
);
const node = toNodeHandler(handler);
const server = createServer((req, res) => void node(req, res));
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
