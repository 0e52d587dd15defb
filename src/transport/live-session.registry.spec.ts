import type { AuditService } from '../audit/audit.service';
import type { MetricsService } from '../metrics/metrics.service';
import { McpRegistry, type McpServerBuilder } from '@portico/mcp-core';
import type { McpServer } from '@modelcontextprotocol/server';
import { Logger } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import type { Response } from 'express';
import { MemoryEventStore } from '../session/memory-event.store';
import { MemorySessionStore } from '../session/memory-session.store';
import { type LiveSession, LiveSessionRegistry, type SessionTransportKind, sweepIntervalMs } from './live-session.registry';

const MINUTE = 60_000;
const principal = (name: string): Principal => ({ id: `token:${name}`, kind: 'service', displayName: name, scopes: ['*'], authMethod: 'bearer' });
const alice = principal('alice');
const bob = principal('bob');

/** A live session whose transport and server only record that they were closed. */
function fakeSession(kind: SessionTransportKind) {
  const transport = { close: jest.fn(async () => undefined) };
  const server = { close: jest.fn(async () => undefined) } as unknown as McpServer & { close: jest.Mock };
  return { kind, transport, server } satisfies LiveSession;
}

/** Just enough of express's Response for sendJsonRpcError. */
function fakeResponse() {
  const res = {
    headersSent: false,
    statusCode: 0,
    body: undefined as unknown,
    setHeader: jest.fn(),
    end: jest.fn(),
    status(code: number) {
      res.statusCode = code;
      return res;
    },
    json(body: unknown) {
      res.body = body;
      return res;
    },
  };
  return res;
}

describe('LiveSessionRegistry', () => {
  let now: number;
  let store: MemorySessionStore;
  let registry: LiveSessionRegistry;

  const open = (id: string, owner: Principal, session = fakeSession('sse')) =>
    registry.open({ id, principalId: owner.id, createdAt: now, lastSeenAt: now }, session).then(() => session);
  const resolve = (kind: SessionTransportKind, id: string, who: Principal) => {
    const res = fakeResponse();
    return registry.resolve(kind, id, who, res as unknown as Response).then((session) => ({ session, res }));
  };

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    now = 1_700_000_000_000;
    store = new MemorySessionStore({ idleTtlMs: 30 * MINUTE, maxAgeMs: 120 * MINUTE, maxPerPrincipal: 2 }, () => now);
    registry = new LiveSessionRegistry(store, new MemoryEventStore(10), new McpRegistry(), { sync: () => undefined, usePrincipal: () => undefined } as unknown as McpServerBuilder, { record: () => undefined } as unknown as AuditService, { sessionOpened: () => undefined, sessionEnded: () => undefined } as unknown as MetricsService, { sessions: { idleTtlMs: 30 * MINUTE, maxAgeMs: 120 * MINUTE, maxPerPrincipal: 2, maxEvents: 10 } });
  });
  afterEach(() => jest.restoreAllMocks());

  it('serves a session to its owner on its own transport, sliding its idle TTL', async () => {
    const session = await open('s1', alice);

    now += 20 * MINUTE;
    expect((await resolve('sse', 's1', alice)).session).toBe(session);
    now += 20 * MINUTE; // 40 minutes after opening, 20 after the last request
    expect((await resolve('sse', 's1', alice)).session).toBe(session);
  });

  it.each([
    ['another principal', 'sse', 's1', bob],
    ['an unknown id', 'sse', 'nope', alice],
    ['the other transport', 'streamable-http', 's1', alice],
  ] as const)('answers %s with the same 404', async (_, kind, id, who) => {
    const session = await open('s1', alice);

    const { session: found, res } = await resolve(kind, id, who);

    expect(found).toBeUndefined();
    expect(res.statusCode).toBe(404);
    expect(res.body).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    expect(session.transport.close).not.toHaveBeenCalled();
  });

  it("ends a principal's oldest session over the cap, whichever transport it uses", async () => {
    const oldest = await open('sse-1', alice, fakeSession('sse'));
    now += 1;
    await open('mcp-1', alice, fakeSession('streamable-http'));
    await open('bob-1', bob);
    now += 1;
    await open('mcp-2', alice, fakeSession('streamable-http'));
    await new Promise((r) => setImmediate(r));

    expect(oldest.transport.close).toHaveBeenCalled();
    expect(oldest.server.close).toHaveBeenCalled();
    expect(registry.size).toBe(3);
    expect((await resolve('sse', 'sse-1', alice)).res.statusCode).toBe(404);
  });

  it('ends, on the next sweep, a session the store has expired, and forgets it only once', async () => {
    const idle = await open('idle', alice);
    const busy = await open('busy', bob);

    now += 20 * MINUTE;
    await resolve('sse', 'busy', bob);
    now += 20 * MINUTE;
    await registry.sweep();

    expect(idle.transport.close).toHaveBeenCalledTimes(1);
    expect(busy.transport.close).not.toHaveBeenCalled();
    // The transport's own onclose usually reports the close as well.
    await registry.forget('idle');
    expect(idle.server.close).toHaveBeenCalledTimes(1);
    expect(registry.size).toBe(1);
  });

  it('closes every session on closeAll and removes their records', async () => {
    const a = await open('a', alice, fakeSession('streamable-http'));
    const b = await open('b', bob);

    await registry.closeAll();

    expect(a.transport.close).toHaveBeenCalled();
    expect(b.transport.close).toHaveBeenCalled();
    expect(registry.size).toBe(0);
    expect(await store.count()).toBe(0);
  });

  it('keeps nothing live when the store refuses the session', async () => {
    jest.spyOn(store, 'create').mockRejectedValueOnce(new Error('store down'));

    await expect(open('s1', alice)).rejects.toThrow('store down');

    expect(registry.size).toBe(0);
  });
});

describe('sweepIntervalMs', () => {
  it('sweeps every 30 s, or every idle TTL when shorter (at most once a second)', () => {
    expect(sweepIntervalMs(30 * 60_000)).toBe(30_000);
    expect(sweepIntervalMs(5_000)).toBe(5_000);
    expect(sweepIntervalMs(100)).toBe(1_000);
  });
});
