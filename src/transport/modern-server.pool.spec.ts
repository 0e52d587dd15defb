import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import { McpRegistry, McpServerBuilder, type Principal, ToolInvoker } from '@portico/mcp-core';
import { z } from 'zod';
import { ModernServerPool, scopeKey } from './modern-server.pool';

const core = { server: { name: 't', version: '1' }, defaultTimeoutMs: 5000, requestState: { key: new Uint8Array(32), ttlSeconds: 60 } };
const principal = (id: string, scopes: string[]): Principal => ({ id, kind: 'service', displayName: id, scopes, authMethod: 'bearer' });
const MODERN = '2026-07-28';

/** A modern-era handler as ModernHandlerService wires it, with a `whoami` tool and a scoped `secret` tool. */
function setup() {
  const registry = new McpRegistry();
  let release: (() => void) | undefined;
  registry.addTool({
    name: 'whoami',
    namespace: 'test',
    source: 'T.whoami',
    definition: { name: 'whoami', description: 'Who calls.', input: z.object({ wait: z.boolean().optional() }) },
    handler: async (input, ctx) => {
      if ((input as { wait?: boolean }).wait) await new Promise<void>((resolve) => (release = resolve));
      return ctx.principal.id;
    },
  });
  registry.addTool({ name: 'secret', namespace: 'test', source: 'T.secret', definition: { name: 'secret', description: 'Scoped.', scopes: ['admin'] }, handler: () => 'secret' });
  const builder = new McpServerBuilder(registry, new ToolInvoker(core), core);
  const build = jest.spyOn(builder, 'build');
  const pool = new ModernServerPool(builder, () => undefined);
  const handler: McpHttpHandler = createMcpHandler((ctx) => pool.acquire((ctx.authInfo?.extra as { principal: Principal }).principal), { legacy: 'reject' });
  const call = async (who: Principal, name: string, args: object = {}, signal?: AbortSignal) => {
    const request = new Request('http://127.0.0.1/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name },
      body: '{}',
      signal,
    });
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } } };
    const response = await handler.fetch(request, { authInfo: { token: '', clientId: who.id, scopes: who.scopes, extra: { principal: who } }, parsedBody: body });
    return (await response.json()) as { result?: { content: { text: string }[] }; error?: { message: string } };
  };
  return { registry, pool, build, call, release: () => release?.() };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('ModernServerPool', () => {
  it('serves later requests with the same scopes from the server it built, as their own principal', async () => {
    const { pool, build, call } = setup();
    expect((await call(principal('token:alice', ['*']), 'whoami')).result?.content[0].text).toBe('token:alice');
    await settle();
    expect(pool.size).toBe(1);
    expect((await call(principal('token:bob', ['*']), 'whoami')).result?.content[0].text).toBe('token:bob');
    await settle();
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('keeps scope sets apart: a server built for fewer scopes never serves more, nor the reverse', async () => {
    const { build, call } = setup();
    const reader = principal('key:reader', ['read']);
    const admin = principal('key:admin', ['admin', 'read']);
    expect((await call(admin, 'secret')).result?.content[0].text).toBe('secret');
    await settle();
    expect((await call(reader, 'secret')).error?.message).toMatch(/secret/);
    await settle();
    expect((await call(admin, 'secret')).result?.content[0].text).toBe('secret');
    expect(build).toHaveBeenCalledTimes(2);
    expect(scopeKey(['read', 'admin', 'read'])).toBe(scopeKey(admin.scopes));
  });

  it('builds again after a registry change, and never takes back a server whose handler outlived its exchange', async () => {
    const { registry, pool, build, call, release } = setup();
    const alice = principal('token:alice', ['*']);
    await call(alice, 'whoami');
    await settle();
    registry.addTool({ name: 'later', namespace: 'test', source: 'T.later', definition: { name: 'later', description: 'Added later.' }, handler: () => 'later' });
    pool.clear();
    expect((await call(alice, 'later')).result?.content[0].text).toBe('later');
    await settle();
    expect(build).toHaveBeenCalledTimes(2);

    // The client goes away while the handler still runs: that server is dropped, not reused.
    const abort = new AbortController();
    const pending = call(alice, 'whoami', { wait: true }, abort.signal).catch(() => undefined);
    await settle();
    abort.abort();
    await pending;
    await settle();
    expect(pool.size).toBe(0);
    release();
    await settle();
    expect(pool.size).toBe(0);
  });
});
