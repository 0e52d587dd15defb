import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpRegistry } from '@portico/mcp-core';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';

const requestInit = { headers: bearer(TOKENS.alice) };

type Era = 'modern' | 'legacy';

async function connect(portico: TestPortico, era: Era): Promise<Client> {
  const client =
    era === 'modern'
      ? new Client({ name: 'e2e-fixtures-modern', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } })
      : new Client({ name: 'e2e-fixtures-legacy', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit }));
  expect(client.getNegotiatedProtocolVersion()).toBe(era === 'modern' ? '2026-07-28' : '2025-11-25');
  return client;
}

/** Resolves when `check` holds, polling briefly (notifications arrive asynchronously). */
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The conformance fixture module (src/tools/conformance), through the official
 * v2 client in both protocol eras: representative resources, prompts,
 * completions and tools, list_changed after a runtime registry change, and
 * nothing of it without PORTICO_CONFORMANCE_FIXTURES.
 */
describe('conformance fixtures (PORTICO_CONFORMANCE_FIXTURES=true)', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico({ PORTICO_CONFORMANCE_FIXTURES: 'true' });
  });

  afterAll(async () => {
    await portico?.stop();
  });

  describe.each<Era>(['modern', 'legacy'])('%s era', (era) => {
    let client: Client;

    beforeAll(async () => {
      client = await connect(portico, era);
    });

    afterAll(async () => {
      await client?.close();
    });

    it('reads a static resource and a templated one', async () => {
      expect((await client.readResource({ uri: 'test://static-text' })).contents).toEqual([
        { uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
      ]);

      const [templated] = (await client.readResource({ uri: 'test://template/123/data' })).contents as { uri: string; mimeType: string; text: string }[];
      expect(templated.uri).toBe('test://template/123/data');
      expect(templated.mimeType).toBe('application/json');
      expect(JSON.parse(templated.text)).toEqual({ id: '123', templateTest: true, data: 'Data for ID: 123' });
    });

    it('gets a prompt with arguments and completes an argument', async () => {
      const prompt = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'hello', arg2: 'world' } });
      expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='hello', arg2='world'" } }]);

      const { completion } = await client.complete({
        ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
        argument: { name: 'arg1', value: 'pa' },
      });
      expect(completion.values).toEqual(['paris', 'park', 'party']);

      const template = await client.complete({
        ref: { type: 'ref/resource', uri: 'test://template/{id}/data' },
        argument: { name: 'id', value: '4' },
      });
      expect(template.completion.values).toEqual(['456']);
    });

    it('reports progress 0, 50 and 100 of 100 during test_tool_with_progress', async () => {
      const progress: number[] = [];
      const result = await client.callTool(
        { name: 'test_tool_with_progress', arguments: {} },
        { onprogress: (p) => void progress.push(p.progress) },
      );
      expect(result.isError).toBeFalsy();
      expect(result.content).toEqual([{ type: 'text', text: 'Tool with progress completed' }]);
      expect(progress).toEqual([0, 50, 100]);
    });

    it('lists the JSON Schema 2020-12 fixture input exactly as declared', async () => {
      const { tools } = await client.listTools();
      const tool = tools.find((t) => t.name === 'json_schema_2020_12_tool')!;
      expect(tool.inputSchema).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $defs: { address: { $anchor: 'addressDef' } },
        allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
        if: { required: ['contactMethod'] },
        additionalProperties: false,
      });
    });
  });

  it('legacy era: elicitation becomes a real server-to-client request', async () => {
    const client = new Client({ name: 'e2e-fixtures-elicit', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler('elicitation/create', (req) => {
      expect(req.params.message).toBe('Who are you?');
      return { action: 'accept', content: { username: 'ada', email: 'ada@example.com' } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit }));
    try {
      const result = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
      expect(result.content).toEqual([
        { type: 'text', text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}' },
      ]);
    } finally {
      await client.close();
    }
  });

  it('a runtime tool-list change reaches a legacy session and a modern subscriptions/listen stream', async () => {
    const legacy = await connect(portico, 'legacy');
    const modern = await connect(portico, 'modern');
    const heard = { legacy: 0, modern: 0 };
    legacy.setNotificationHandler('notifications/tools/list_changed', () => void heard.legacy++);
    modern.setNotificationHandler('notifications/tools/list_changed', () => void heard.modern++);
    const subscription = await modern.listen({ toolsListChanged: true });
    try {
      const before = (await legacy.listTools()).tools.map((t) => t.name);
      const { content } = await modern.callTool({ name: 'test_trigger_tool_change', arguments: {} });
      const added = (content as { text: string }[])[0].text === 'test_dynamic_tool added';

      await eventually(() => heard.legacy > 0 && heard.modern > 0);
      const after = (await legacy.listTools()).tools.map((t) => t.name);
      expect(after.includes('test_dynamic_tool')).toBe(added);
      expect(before.includes('test_dynamic_tool')).toBe(!added);
      if (added) expect(await legacy.callTool({ name: 'test_dynamic_tool', arguments: {} })).toMatchObject({ content: [{ text: 'This tool was added at runtime.' }] });
    } finally {
      await subscription.close();
      await Promise.all([legacy.close(), modern.close()]);
    }
  });
});

describe('resource updates', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico({ PORTICO_CONFORMANCE_FIXTURES: 'true' });
  });

  afterAll(async () => {
    await portico?.stop();
  });

  it('McpRegistry.resourceUpdated reaches a legacy subscriber and a modern listen stream, and no one else', async () => {
    const uri = 'test://watched-resource';
    const legacy = await connect(portico, 'legacy');
    const modern = await connect(portico, 'modern');
    const bystander = await connect(portico, 'legacy');
    const heard: Record<string, string[]> = { legacy: [], modern: [], bystander: [] };
    legacy.setNotificationHandler('notifications/resources/updated', (n) => void heard.legacy.push(n.params.uri));
    modern.setNotificationHandler('notifications/resources/updated', (n) => void heard.modern.push(n.params.uri));
    bystander.setNotificationHandler('notifications/resources/updated', (n) => void heard.bystander.push(n.params.uri));
    await legacy.subscribeResource({ uri });
    const subscription = await modern.listen({ resourceSubscriptions: [uri] });
    try {
      portico.app.get(McpRegistry).resourceUpdated(uri);
      portico.app.get(McpRegistry).resourceUpdated('test://static-text');
      await eventually(() => heard.legacy.length > 0 && heard.modern.length > 0);
      await new Promise((r) => setTimeout(r, 100));
      expect(heard).toEqual({ legacy: [uri], modern: [uri], bystander: [] });
    } finally {
      await subscription.close();
      await Promise.all([legacy.close(), modern.close(), bystander.close()]);
    }
  });
});

describe('conformance fixtures off (the default)', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico();
  });

  afterAll(async () => {
    await portico?.stop();
  });

  it.each<Era>(['modern', 'legacy'])('%s era: no fixture tool, resource, template or prompt is listed', async (era) => {
    const client = await connect(portico, era);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['convert_time', 'get_current_time', 'net_check_common_ports', 'net_fetch_page', 'net_ping_host']);
      expect((await client.listResources()).resources).toEqual([]);
      expect((await client.listResourceTemplates()).resourceTemplates).toEqual([]);
      expect((await client.listPrompts()).prompts).toEqual([]);
      await expect(client.readResource({ uri: 'test://static-text' })).rejects.toThrow();
    } finally {
      await client.close();
    }
  });
});
