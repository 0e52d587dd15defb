import { Logger } from '@nestjs/common';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';

const HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...bearer(TOKENS.alice) };

/** The requests as the shipped clients send them (header/body era mismatch). */
async function claudeAiLegacySessionWithModernHeader(url: string): Promise<Response> {
  const init = await fetch(url, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'claude-ai', version: '0.1.0' } },
    }),
  });
  await init.text();
  const sessionId = init.headers.get('mcp-session-id')!;
  const session = { ...HEADERS, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': '2025-11-25' };
  await (await fetch(url, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
  // After the legacy handshake, claude.ai sends the modern version in the header.
  return fetch(url, {
    method: 'POST',
    headers: { ...session, 'MCP-Protocol-Version': '2026-07-28' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
}

function claudeCodeModernBodyWithLegacyHeader(url: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, 'MCP-Protocol-Version': '2025-11-25', 'Mcp-Method': 'tools/list' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: {
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'claude-code', version: '2.1.300' },
        },
      },
    }),
  });
}

describe('client quirks', () => {
  describe('MCP_CLIENT_QUIRKS=true (default)', () => {
    let portico: TestPortico;
    let logs: string[];
    let write: jest.SpyInstance;

    beforeAll(async () => {
      logs = [];
      write = jest.spyOn(Logger.prototype, 'log').mockImplementation(function (this: Logger, message: unknown, ...rest: unknown[]) {
        logs.push(JSON.stringify({ ...(message as object), msg: rest[0] }));
      });
      portico = await bootPortico();
    });

    afterAll(async () => {
      await portico?.stop();
      write.mockRestore();
    });

    it('serves claude.ai sending 2026-07-28 inside a legacy session, and logs it', async () => {
      const res = await claudeAiLegacySessionWithModernHeader(portico.mcpUrl);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('get_current_time');
      const line = logs.find((l) => l.includes('modern-header-in-legacy-session'));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ sent: '2026-07-28', used: '2025-11-25' });
    });

    it('serves Claude Code sending header 2025-11-25 with a modern body, and logs it with the client', async () => {
      const res = await claudeCodeModernBodyWithLegacyHeader(portico.mcpUrl);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('get_current_time');
      const line = logs.find((l) => l.includes('legacy-header-with-modern-body'));
      expect(JSON.parse(line!)).toMatchObject({ sent: '2025-11-25', used: '2026-07-28', client: 'claude-code' });
    });

    it('reads a legacy session request at the version the session negotiated, and logs it', async () => {
      const init = await fetch(portico.mcpUrl, {
        method: 'POST',
        headers: HEADERS,
        body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'suite', version: '0.1.16' } } }),
      });
      await init.text();
      const session = { ...HEADERS, 'Mcp-Session-Id': init.headers.get('mcp-session-id')! };
      await (await fetch(portico.mcpUrl, { method: 'POST', headers: { ...session, 'MCP-Protocol-Version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
      const call = await fetch(portico.mcpUrl, {
        method: 'POST',
        headers: { ...session, 'MCP-Protocol-Version': '2025-03-26' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'get_current_time', arguments: {} } }),
      });
      const text = await call.text();
      // 2025-11-25 streams open with a priming event carrying `retry`; 2025-03-26 ones do not.
      expect(text).toMatch(/^id: .+\nretry: \d+\ndata: \n/);
      const line = logs.find((l) => l.includes('header-differs-from-session'));
      expect(JSON.parse(line!)).toMatchObject({ sent: '2025-03-26', used: '2025-11-25' });
    });

    it('still rejects a header that names no supported revision', async () => {
      const res = await fetch(portico.mcpUrl, {
        method: 'POST',
        headers: { ...HEADERS, 'MCP-Protocol-Version': '1999-01-01', 'Mcp-Method': 'tools/list' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/list',
          params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
        }),
      });
      expect(res.status).toBe(400);
    });
  });

  describe('MCP_CLIENT_QUIRKS=false', () => {
    let portico: TestPortico;
    beforeAll(async () => {
      portico = await bootPortico({ MCP_CLIENT_QUIRKS: 'false' });
    });
    afterAll(async () => {
      await portico?.stop();
    });

    it('rejects both shapes as the spec says', async () => {
      const a = await claudeAiLegacySessionWithModernHeader(portico.mcpUrl);
      expect(a.status).toBe(400);
      const b = await claudeCodeModernBodyWithLegacyHeader(portico.mcpUrl);
      expect(b.status).toBe(400);
      expect(await b.json()).toMatchObject({ error: { code: -32020 } });
    });
  });
});
