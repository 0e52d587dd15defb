// The ceiling: plain node:http, no MCP library. Parses the body (to learn the id and the text),
// answers `initialize` with a fixed result and a fresh Mcp-Session-Id (nothing is stored), a
// notification with 202, anything else with a fixed-shape echo result. PORT from the environment.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const INIT = JSON.stringify({ protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'raw', version: '1.0.0' } });

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let msg;
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (msg.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const headers = { 'Content-Type': 'application/json' };
    let body;
    if (msg.method === 'initialize') {
      headers['Mcp-Session-Id'] = randomUUID();
      body = `{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":${INIT}}`;
    } else {
      const text = JSON.stringify(String(msg.params?.arguments?.text ?? ''));
      body = `{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":{"content":[{"type":"text","text":${text}}]}}`;
    }
    headers['Content-Length'] = Buffer.byteLength(body);
    res.writeHead(200, headers).end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
