// fastmcp 4.20 httpStream. MODE=stateful (default) or stateless; JSON=1 answers with JSON bodies,
// else SSE (its default). Its default logger writes a line per session or stateless request: a
// near-silent one replaces it, as mcp-nest runs with `logging: false`. One `echo` tool.
import { FastMCP } from 'fastmcp';
import { z } from 'zod';

const quiet = () => {};
const logger = { debug: quiet, info: quiet, log: quiet, warn: quiet, error: (...a) => console.error(...a) };
const server = new FastMCP({ name: 'fastmcp', version: '1.0.0', logger });
server.addTool({ name: 'echo', description: 'Echoes the text', parameters: z.object({ text: z.string() }), execute: async ({ text }) => ({ content: [{ type: 'text', text }] }) });
await server.start({
  transportType: 'httpStream',
  httpStream: {
    port: Number(process.env.PORT),
    host: '127.0.0.1',
    endpoint: '/mcp',
    stateless: process.env.MODE === 'stateless',
    enableJsonResponse: process.env.JSON === '1',
  },
});
