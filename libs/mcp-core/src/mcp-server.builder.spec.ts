import { Client } from '@modelcontextprotocol/client';
import { createMcpHandler, InMemoryTransport, inputRequired, type McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { McpContext, ToolContext } from './context';
import { jsonSchemaInput } from './json-schema-input';
import { McpServerBuilder } from './mcp-server.builder';
import { McpRegistry, type ToolHandler } from './mcp.registry';
import type { Principal } from './principal';
import { ToolInvoker } from './tool.invoker';

const options = { server: { name: 't', version: '1' }, defaultTimeoutMs: 1000, requestState: { key: new Uint8Array(32), ttlSeconds: 60 } };
const principal: Principal = { id: 'token:ci', kind: 'service', displayName: 'ci', scopes: ['*'], authMethod: 'bearer' };

function addTool(registry: McpRegistry, name: string, handler: ToolHandler = () => name, extra: object = {}) {
  return registry.addTool({ name, namespace: 'test', source: `Tools.${name}`, definition: { name, description: `The ${name} tool.`, ...extra }, handler });
}

/** A legacy-era session: the builder's server and a v2 client over an in-memory pair. */
async function session(registry: McpRegistry, capabilities: object = {}, core: object = options, owner: Principal = principal) {
  const builder = new McpServerBuilder(registry, new ToolInvoker(options), { ...options, ...core });
  const server = builder.build({ principal: owner, era: 'legacy', sessionId: 's1' });
  const client = new Client({ name: 'spec', version: '1' }, { capabilities });
  const notifications: string[] = [];
  for (const method of ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed'] as const) {
    client.setNotificationHandler(method, () => void notifications.push(method));
  }
  client.setNotificationHandler('notifications/resources/updated', (n) => void notifications.push(`updated ${n.params.uri}`));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  return { builder, server, client, notifications, close: () => Promise.all([client.close(), server.close()]) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('McpServerBuilder', () => {
  describe('sync: runtime registry changes on a live session', () => {
    it('registers what the registry gained and removes what it lost, and the client hears list_changed', async () => {
      const registry = new McpRegistry();
      addTool(registry, 'always_there');
      const s = await session(registry);
      try {
        addTool(registry, 'added_later');
        s.builder.sync(s.server);
        await settle();

        expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(['added_later', 'always_there']);
        expect(await s.client.callTool({ name: 'added_later', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'added_later' }] });
        expect(s.notifications).toContain('notifications/tools/list_changed');

        s.notifications.length = 0;
        registry.removeTool('added_later');
        s.builder.sync(s.server);
        await settle();

        expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(['always_there']);
        await expect(s.client.callTool({ name: 'added_later', arguments: {} })).rejects.toThrow(/added_later/);
        expect(s.notifications).toEqual(['notifications/tools/list_changed']);
      } finally {
        await s.close();
      }
    });

    it('replaces an entry removed and added again under the same name', async () => {
      const registry = new McpRegistry();
      addTool(registry, 'versioned', () => 'v1');
      const s = await session(registry);
      try {
        registry.removeTool('versioned');
        addTool(registry, 'versioned', () => 'v2');
        s.builder.sync(s.server);

        expect(await s.client.callTool({ name: 'versioned', arguments: {} })).toMatchObject({ content: [{ text: 'v2' }] });
      } finally {
        await s.close();
      }
    });

    it('adds and removes prompts, with prompts/list_changed', async () => {
      const registry = new McpRegistry();
      const s = await session(registry);
      try {
        registry.addPrompt({ name: 'late_prompt', namespace: 'test', source: 'P.late', definition: { name: 'late_prompt', description: 'Late.' }, handler: () => 'hi' });
        s.builder.sync(s.server);
        await settle();

        expect((await s.client.listPrompts()).prompts.map((p) => p.name)).toEqual(['late_prompt']);
        expect(s.notifications).toContain('notifications/prompts/list_changed');
        registry.removePrompt('late_prompt');
        s.builder.sync(s.server);
        expect((await s.client.listPrompts()).prompts).toEqual([]);
      } finally {
        await s.close();
      }
    });

    it('does nothing for a server it did not build', () => {
      const builder = new McpServerBuilder(new McpRegistry(), new ToolInvoker(options), options);
      expect(() => builder.sync({} as McpServer)).not.toThrow();
    });
  });

  describe('usePrincipal: the session owner presents a newer credential', () => {
    const alice = (scopes: string[]): Principal => ({ id: 'oauth:idp#alice', kind: 'user', displayName: 'Alice', scopes, authMethod: 'oauth' });

    it('follows the new scopes: a step-up adds the tool (with list_changed), a narrower token takes it away', async () => {
      const registry = new McpRegistry();
      addTool(registry, 'read_note', () => 'read', { scopes: ['notes:read'] });
      addTool(registry, 'write_note', (_input, ctx) => `written by ${ctx.principal.displayName} with ${ctx.principal.scopes.join(' ')}`, {
        scopes: ['notes:write'],
      });
      const s = await session(registry, {}, options, alice(['notes:read']));
      try {
        expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(['read_note']);

        s.builder.usePrincipal(s.server, alice(['notes:read', 'notes:write']));
        await settle();
        expect(s.notifications).toEqual(['notifications/tools/list_changed']);
        expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(['read_note', 'write_note']);
        expect(await s.client.callTool({ name: 'write_note', arguments: {} })).toMatchObject({
          content: [{ text: 'written by Alice with notes:read notes:write' }],
        });

        s.builder.usePrincipal(s.server, alice(['notes:read']));
        expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(['read_note']);
        await expect(s.client.callTool({ name: 'write_note', arguments: {} })).rejects.toThrow(/write_note/);
      } finally {
        await s.close();
      }
    });

    it('changes nothing the client sees when the scopes are the same', async () => {
      const registry = new McpRegistry();
      addTool(registry, 'read_note', () => 'read', { scopes: ['notes:read'] });
      const s = await session(registry, {}, options, alice(['notes:read']));
      try {
        s.builder.usePrincipal(s.server, alice(['notes:read']));
        await settle();
        expect(s.notifications).toEqual([]);
      } finally {
        await s.close();
      }
    });
  });

  it('lists a jsonSchemaInput exactly as declared and validates arguments against it', async () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object' as const,
      $defs: { point: { $anchor: 'pt', type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
      properties: { at: { $ref: '#/$defs/point' }, mode: { enum: ['a', 'b'] } },
      if: { properties: { mode: { const: 'a' } } },
      then: { required: ['at'] },
      additionalProperties: false,
    };
    const registry = new McpRegistry();
    addTool(registry, 'raw', (input) => `got ${JSON.stringify(input)}`, { input: jsonSchemaInput(schema) });
    const s = await session(registry);
    try {
      const [tool] = (await s.client.listTools()).tools;
      expect(tool.inputSchema).toEqual(schema);

      expect(await s.client.callTool({ name: 'raw', arguments: { mode: 'a', at: { x: 1 } } })).toMatchObject({
        content: [{ text: 'got {"mode":"a","at":{"x":1}}' }],
      });
      const rejected = await s.client.callTool({ name: 'raw', arguments: { mode: 'a' } });
      expect(rejected.isError).toBe(true);
      expect((rejected.content as { text: string }[])[0].text).toMatch(/Invalid arguments for raw:[\s\S]*required property 'at'/);
    } finally {
      await s.close();
    }
  });

  it('tells handlers what the client declared at initialize (legacy era)', async () => {
    const seen: McpContext['clientCapabilities'][] = [];
    const registry = new McpRegistry();
    addTool(registry, 'caps', (_input, ctx: ToolContext) => {
      seen.push(ctx.clientCapabilities);
      return 'ok';
    });
    const s = await session(registry, { sampling: {}, elicitation: {} });
    try {
      await s.client.callTool({ name: 'caps', arguments: {} });
      expect(seen[0]).toMatchObject({ sampling: {}, elicitation: {} });
      expect(seen[0].roots).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('lets a prompt ask for input; in a legacy session the SDK asks the client and re-enters the handler', async () => {
    const registry = new McpRegistry();
    registry.addPrompt({
      name: 'ask_topic',
      namespace: 'test',
      source: 'P.ask',
      definition: { name: 'ask_topic', description: 'Asks for a topic first.' },
      handler: (_args, ctx: McpContext) => {
        const answer = (ctx.inputResponses?.topic as { action?: string; content?: { topic?: string } } | undefined)?.content?.topic;
        if (!answer) {
          return inputRequired({
            inputRequests: {
              topic: inputRequired.elicit({ message: 'Topic?', requestedSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] } }),
            },
          });
        }
        return `Write about ${answer}.`;
      },
    });
    const s = await session(registry, { elicitation: {} });
    s.client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { topic: 'tides' } }));
    try {
      const result = await s.client.getPrompt({ name: 'ask_topic' });
      expect(result.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Write about tides.' } }]);
    } finally {
      await s.close();
    }
  });

  it('keeps zod inputs advertised as their JSON Schema', async () => {
    const registry = new McpRegistry();
    addTool(registry, 'typed', () => 'ok', { input: z.object({ n: z.number().describe('A number') }) });
    const s = await session(registry);
    try {
      const [tool] = (await s.client.listTools()).tools;
      expect(tool.inputSchema).toMatchObject({ type: 'object', properties: { n: { type: 'number', description: 'A number' } }, required: ['n'] });
    } finally {
      await s.close();
    }
  });

  describe('paginated lists', () => {
    it('pages tools/list in name order with an opaque cursor, and refuses a forged cursor', async () => {
      const registry = new McpRegistry();
      for (const name of ['delta', 'alpha', 'echo', 'charlie', 'bravo']) addTool(registry, name);
      const s = await session(registry, {}, { pageSize: 2 });
      try {
        // The first page as the wire carries it (the client's listTools() would walk all pages).
        const first = await s.client.request({ method: 'tools/list', params: {} });
        const names = first.tools.map((t) => t.name);
        let cursor = first.nextCursor;
        let pages = 1;
        while (cursor) {
          const page = await s.client.listTools({ cursor });
          names.push(...page.tools.map((t) => t.name));
          cursor = page.nextCursor;
          pages++;
        }
        expect(names).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
        expect(pages).toBe(3);
        // The client's own walk puts the pages back together.
        expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(names);
        await expect(s.client.listTools({ cursor: 'not-a-cursor' })).rejects.toThrow(/Invalid cursor/);
      } finally {
        await s.close();
      }
    });
  });

  describe('resource subscriptions', () => {
    it('sends notifications/resources/updated only for subscribed URIs, until unsubscribed', async () => {
      const registry = new McpRegistry();
      registry.addResource({
        name: 'watched',
        namespace: 'test',
        source: 'Res.watched',
        definition: { name: 'watched', uri: 'test://watched', description: 'A resource that changes.' },
        handler: () => 'now',
      });
      const s = await session(registry);
      try {
        await s.client.subscribeResource({ uri: 'test://watched' });
        await s.builder.notifyResourceUpdated(s.server, 'test://watched');
        await s.builder.notifyResourceUpdated(s.server, 'test://other');
        await settle();
        expect(s.notifications).toEqual(['updated test://watched']);

        await s.client.unsubscribeResource({ uri: 'test://watched' });
        await s.builder.notifyResourceUpdated(s.server, 'test://watched');
        await settle();
        expect(s.notifications).toEqual(['updated test://watched']);
      } finally {
        await s.close();
      }
    });
  });

  describe('modern era: SEP-2243 Mcp-Param-* headers', () => {
    const schema = { type: 'object' as const, properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] };

    async function call(headers: Record<string, string>) {
      const registry = new McpRegistry();
      addTool(registry, 'regional', (input) => `in ${(input as { region: string }).region}`, { input: jsonSchemaInput(schema) });
      const builder = new McpServerBuilder(registry, new ToolInvoker(options), options);
      const handler = createMcpHandler(() => builder.build({ principal, era: 'modern' }), { legacy: 'reject' });
      const body = {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: {
          name: 'regional',
          arguments: { region: 'eu' },
          _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} },
        },
      };
      const res = await handler.fetch(
        new Request('http://localhost/mcp', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'regional',
            ...headers,
          },
          body: JSON.stringify(body),
        }),
      );
      await handler.close();
      return { status: res.status, text: await res.text() };
    }

    it('serves a call whose Mcp-Param header matches the argument', async () => {
      const r = await call({ 'mcp-param-region': 'eu' });
      expect(r.status).toBe(200);
      expect(r.text).toContain('in eu');
    });

    it('refuses a missing or disagreeing Mcp-Param header with 400 and -32020 before the tool runs', async () => {
      for (const headers of [{}, { 'mcp-param-region': 'us' }] as Record<string, string>[]) {
        const r = await call(headers);
        expect(r.status).toBe(400);
        expect(JSON.parse(r.text)).toMatchObject({ id: 7, error: { code: -32020 } });
      }
    });
  });
});
