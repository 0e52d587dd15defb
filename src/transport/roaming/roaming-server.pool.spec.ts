import { InMemoryTransport, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { McpRegistry, McpServerBuilder, type Principal, ToolInvoker } from '@portico/mcp-core';
import type { SessionRecord } from '../../session/session-store.interface';
import { RoamingServerPool } from './roaming-server.pool';

const core = { server: { name: 't', version: '1' }, defaultTimeoutMs: 5000, requestState: { key: new Uint8Array(32), ttlSeconds: 60 } };
const alice: Principal = { id: 'token:alice', kind: 'service', displayName: 'alice', scopes: ['*'], authMethod: 'bearer' };
const record = (id: string, logLevel?: string): SessionRecord => ({
  id,
  principalId: alice.id,
  createdAt: 0,
  lastSeenAt: 0,
  protocolVersion: '2025-11-25',
  initialize: { protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'replayed-client', version: '1' } },
  logLevel,
});

function setup() {
  const registry = new McpRegistry();
  registry.addTool({ name: 'echo', namespace: 'test', source: 'T.echo', definition: { name: 'echo', description: 'Echo.' }, handler: () => 'ok' });
  const builder = new McpServerBuilder(registry, new ToolInvoker(core), core);
  const build = jest.spyOn(builder, 'build');
  return { registry, builder, build, pool: new RoamingServerPool(builder, registry, () => undefined) };
}

/** Serves one exchange on `server` as the roaming service does: connect, answer, close. */
async function exchange(server: Awaited<ReturnType<RoamingServerPool['acquire']>>['server']): Promise<void> {
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const answered = new Promise<JSONRPCMessage>((resolve) => (client.onmessage = resolve));
  await server.connect(serverSide);
  await client.start();
  await client.send({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} });
  expect(await answered).toMatchObject({ id: 7, result: { tools: [{ name: 'echo' }] } });
  await server.close();
}

describe('RoamingServerPool', () => {
  it('prepares a server with the session handshake once, then serves the session next requests with it', async () => {
    const { pool, build } = setup();
    const first = await pool.acquire(record('s1'), alice);
    expect(first.server.server.getClientVersion()).toEqual({ name: 'replayed-client', version: '1' });
    await exchange(first.server);
    first.release();
    const second = await pool.acquire(record('s1'), alice);
    expect(second.server).toBe(first.server);
    expect(build).toHaveBeenCalledTimes(1);
    await exchange(second.server);
  });

  it('builds anew when the record says another log level, for another session, and after a registry change', async () => {
    const { pool, build, registry } = setup();
    const a = await pool.acquire(record('s1'), alice);
    a.release();
    const leveled = await pool.acquire(record('s1', 'error'), alice);
    expect(leveled.server).not.toBe(a.server);
    leveled.release();
    const other = await pool.acquire(record('s2', 'error'), alice);
    expect(other.server).not.toBe(leveled.server);
    other.release();
    registry.addTool({ name: 'more', namespace: 'test', source: 'T.more', definition: { name: 'more', description: 'More.' }, handler: () => 'ok' });
    expect(pool.size).toBe(0);
    await pool.acquire(record('s2', 'error'), alice);
    expect(build).toHaveBeenCalledTimes(4);
  });

  it('keeps one idle server per session, and none for a session that ended', async () => {
    const { pool } = setup();
    const a = await pool.acquire(record('s1'), alice);
    const b = await pool.acquire(record('s1'), alice);
    expect(b.server).not.toBe(a.server);
    a.release();
    b.release();
    expect(pool.size).toBe(1);
    expect((await pool.acquire(record('s1'), alice)).server).toBe(a.server);
    pool.keep(record('s3'), b.server);
    pool.forget('s3');
    expect(pool.size).toBe(0);
  });
});
