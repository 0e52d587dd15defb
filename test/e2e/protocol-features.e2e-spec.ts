import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AuditService } from '../../src/audit/audit.service';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { cutSlowCountCall, resumeAfter } from '../support/raw-mcp';
import { ProbeToolsModule, probe } from '../support/test-tools';

const requestInit = { headers: bearer(TOKENS.alice) };
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } };

/** A modern tools/call over raw HTTP, answered as JSON. */
async function modernCall(url: string, params: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      ...bearer(TOKENS.alice),
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2026-07-28',
      'Mcp-Method': 'tools/call',
      'Mcp-Name': String(params.name),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...params, _meta: MODERN_META } }),
  });
  return (await res.json()) as { result?: Record<string, unknown>; error?: { code: number; message: string } };
}

const accept = (content: Record<string, string | number | boolean>) => ({ action: 'accept' as const, content });

describe('protocol features through the official clients', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico({ REQUEST_STATE_KEY: 'k'.repeat(40), REQUEST_STATE_TTL_SECONDS: '1' }, [ProbeToolsModule]);
  });

  afterAll(async () => {
    await portico?.stop();
  });

  describe('asking the user for input: one handler, both eras', () => {
    it('legacy v1 client: the handler rounds arrive as real elicitation requests', async () => {
      const client = new V1Client({ name: 'elicit-v1', version: '1' }, { capabilities: { elicitation: {} } });
      const asked: string[] = [];
      client.setRequestHandler(ElicitRequestSchema, async (req) => {
        asked.push(req.params.message);
        return req.params.message.startsWith('What') ? accept({ name: 'Ada' }) : accept({ confirm: true });
      });
      await client.connect(new V1Transport(new URL(portico.mcpUrl), { requestInit }));
      const result = await client.callTool({ name: 'greet_user', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'Hello, Ada!' }]);
      expect(asked).toEqual(['What is your name?', 'Greet Ada?']);
      await client.close();
    });

    it('modern v2 client: input_required rounds with a signed requestState, fulfilled by the client', async () => {
      const client = new Client({ name: 'elicit-v2', version: '1' }, { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: { form: {} } } });
      const asked: string[] = [];
      client.setRequestHandler('elicitation/create', async (req) => {
        const message = (req.params as { message: string }).message;
        asked.push(message);
        return message.startsWith('What') ? accept({ name: 'Grace' }) : accept({ confirm: true });
      });
      await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit }));
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const result = await client.callTool({ name: 'greet_user', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'Hello, Grace!' }]);
      expect(asked).toEqual(['What is your name?', 'Greet Grace?']);
      await client.close();

      // This instance's rows only: the suites share one PostgreSQL database across runs.
      const rows = await portico.auditRows(`tool = 'greet_user' AND era = 'modern' AND instance_id = $1`, [portico.app.get(AuditService).instanceId]);
      expect(rows.map((r) => r.outcome)).toEqual(['input_required', 'input_required', 'ok']);
    });

    it('rejects a tampered requestState, and an expired one', async () => {
      const first = await modernCall(portico.mcpUrl, { name: 'greet_user', arguments: {} });
      expect(first.result).toMatchObject({ resultType: 'input_required' });
      const second = await modernCall(portico.mcpUrl, { name: 'greet_user', arguments: {}, inputResponses: { name: accept({ name: 'Eve' }) } });
      const state = second.result!.requestState as string;
      expect(typeof state).toBe('string');

      // Flip one character of the signed state.
      const i = state.length - 5;
      const tampered = state.slice(0, i) + (state[i] === 'A' ? 'B' : 'A') + state.slice(i + 1);
      const forged = await modernCall(portico.mcpUrl, {
        name: 'greet_user',
        arguments: {},
        requestState: tampered,
        inputResponses: { confirm: accept({ confirm: true }) },
      });
      expect(forged.error).toMatchObject({ code: -32602, message: expect.stringMatching(/Invalid or expired requestState/) });

      // The genuine state works now, and no longer after its TTL (1 s here).
      const genuine = await modernCall(portico.mcpUrl, { name: 'greet_user', arguments: {}, requestState: state, inputResponses: { confirm: accept({ confirm: true }) } });
      expect(genuine.result).toMatchObject({ content: [{ type: 'text', text: 'Hello, Eve!' }] });
      await new Promise((r) => setTimeout(r, 2100));
      const expired = await modernCall(portico.mcpUrl, { name: 'greet_user', arguments: {}, requestState: state, inputResponses: { confirm: accept({ confirm: true }) } });
      expect(expired.error).toMatchObject({ code: -32602, message: expect.stringMatching(/Invalid or expired requestState/) });
    });
  });

  describe('cancellation', () => {
    it('legacy: notifications/cancelled aborts the handler', async () => {
      const client = new V1Client({ name: 'cancel-v1', version: '1' });
      await client.connect(new V1Transport(new URL(portico.mcpUrl), { requestInit }));
      const before = probe.cancelled;
      const controller = new AbortController();
      const call = client.callTool({ name: 'wait_for_cancel', arguments: {} }, undefined, { signal: controller.signal });
      await waitUntil(() => probe.started > 0);
      controller.abort('user pressed stop');
      await expect(call).rejects.toThrow();
      await waitUntil(() => probe.cancelled > before);
      await client.close();
    });

    it('modern: closing the request stream aborts the handler', async () => {
      const client = new Client({ name: 'cancel-v2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
      await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit }));
      const before = probe.cancelled;
      const started = probe.started;
      const controller = new AbortController();
      const call = client.callTool({ name: 'wait_for_cancel', arguments: {} }, { signal: controller.signal });
      await waitUntil(() => probe.started > started);
      controller.abort('user pressed stop');
      await expect(call).rejects.toThrow();
      await waitUntil(() => probe.cancelled > before);
      await client.close();
    });
  });

  it('legacy: a response stream cut mid-call resumes with Last-Event-ID and delivers the result exactly once', async () => {
    const headers = { ...bearer(TOKENS.alice), 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    const init = await fetch(portico.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cut', version: '1' } } }),
    });
    await init.text();
    const session = { ...headers, 'Mcp-Session-Id': init.headers.get('mcp-session-id')!, 'MCP-Protocol-Version': '2025-11-25' };
    await (await fetch(portico.mcpUrl, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();

    // The call streams progress; the connection drops after the first progress event.
    const lastEventId = await cutSlowCountCall(portico.mcpUrl, session, 42);
    const { status, replay } = await resumeAfter(portico.mcpUrl, session, lastEventId, 42);
    expect(status).toBe(200);
    expect(replay.match(/"id":42/g)).toHaveLength(1);
    expect(replay).toContain('counted to 4');
    // Nothing the client already had is sent again.
    expect(replay).not.toContain(`id: ${lastEventId}\n`);
    expect(replay).toMatch(/"progress":4/);
  });

  it('progress reaches the client in both eras', async () => {
    for (const mode of ['legacy', 'auto'] as const) {
      const client = new Client({ name: `progress-${mode}`, version: '1' }, { versionNegotiation: { mode } });
      await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit }));
      const seen: number[] = [];
      const result = await client.callTool({ name: 'slow_count', arguments: { to: 3, every_ms: 10 } }, { onprogress: (p) => seen.push(p.progress) });
      expect(result.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
      expect(seen).toEqual([1, 2, 3]);
      await client.close();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
