import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';

/**
 * The official clients against the real app: the v2 client in the modern era
 * and in the legacy era, and the v1 client most deployed software runs. Each
 * lists tools, calls get_current_time, and finds its call in the audit log.
 */
describe('MCP clients on /mcp', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico();
  });

  afterAll(async () => {
    await portico?.stop();
  });

  const requestInit = { headers: bearer(TOKENS.alice) };

  function expectTime(result: { structuredContent?: unknown; content?: unknown[]; isError?: boolean }) {
    expect(result.isError).toBeFalsy();
    const time = result.structuredContent as { timezone: string; datetime: string; utc_offset: string };
    expect(time.timezone).toBe('Asia/Kolkata');
    expect(time.utc_offset).toBe('+05:30');
    expect(time.datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$/);
    // Structured content is duplicated as text for clients that only read text.
    expect(JSON.parse((result.content![0] as { text: string }).text)).toEqual(time);
  }

  it('v2 client, modern era (2026-07-28): discover, list, call, audited', async () => {
    const client = new Client({ name: 'e2e-modern', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(client.getServerVersion()?.name).toBe('portico');

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['convert_time', 'get_current_time']));
    const now = tools.find((t) => t.name === 'get_current_time')!;
    expect(now.inputSchema).toMatchObject({ type: 'object', properties: { timezone: { type: 'string' } } });
    expect(now.annotations?.readOnlyHint).toBe(true);

    const before = new Date();
    expectTime(await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Asia/Kolkata' } }));
    await client.close();

    const rows = await portico.auditRows(`era = 'modern' AND tool = 'get_current_time' AND occurred_at >= $1`, [before]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ principal_id: 'token:alice', auth_method: 'bearer', outcome: 'ok', session_id: null });
    expect(Number(rows[0].duration_ms)).toBeGreaterThanOrEqual(0);
  });

  it('v2 client, legacy era (2025-11-25): session, list, call, audited with the session id', async () => {
    const client = new Client({ name: 'e2e-legacy', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit });
    await client.connect(transport);
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('get_current_time');
    expectTime(await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Asia/Kolkata' } }));

    const rows = await portico.auditRows(`kind = 'tool_call' AND session_id = $1`, [transport.sessionId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ era: 'legacy', tool: 'get_current_time', outcome: 'ok', principal_id: 'token:alice' });
    await transport.terminateSession();
    await client.close();
  });

  it('v1 client (@modelcontextprotocol/sdk 1.x): session, list, call, audited', async () => {
    const client = new V1Client({ name: 'e2e-v1', version: '1.0.0' });
    const transport = new V1Transport(new URL(portico.mcpUrl), { requestInit });
    await client.connect(transport);
    expect(transport.sessionId).toBeDefined();

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('get_current_time');
    expectTime(
      (await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Asia/Kolkata' } })) as Parameters<typeof expectTime>[0],
    );

    const rows = await portico.auditRows(`kind = 'tool_call' AND session_id = $1`, [transport.sessionId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ era: 'legacy', tool: 'get_current_time', outcome: 'ok' });
    await transport.terminateSession();
    await client.close();
  });

  it('reports bad arguments as a tool error the model can act on, and audits it', async () => {
    const client = new Client({ name: 'e2e-bad-args', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit }));
    const before = new Date();
    const result = await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Mars/Olympus_Mons' } });
    expect(result.isError).toBe(true);
    expect((result.content[0] as { text: string }).text).toMatch(/unknown time zone "Mars\/Olympus_Mons".*IANA/);
    const rows = await portico.auditRows(`outcome = 'invalid_input' AND occurred_at >= $1`, [before]);
    expect(rows).toHaveLength(1);

    // An unknown tool is a protocol error (invalid params), not a tool result.
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(/no_such_tool/);
    await client.close();
  });
});
