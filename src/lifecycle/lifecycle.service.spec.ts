import { Logger } from '@nestjs/common';
import type { ToolInvoker } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import { LifecycleService } from './lifecycle.service';

function fakeResponse() {
  const res = Object.assign(new EventEmitter(), {
    headersSent: false,
    statusCode: 200,
    headers: {} as Record<string, string>,
    body: undefined as unknown,
    setHeader(k: string, v: string) {
      res.headers[k.toLowerCase()] = v;
    },
    status(code: number) {
      res.statusCode = code;
      return res;
    },
    json(body: unknown) {
      res.body = body;
      return res;
    },
    end: () => undefined,
  });
  return res;
}

function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, query: Record<string, string> = {}) {
  return { method, path, body, headers, query } as unknown as Request;
}

describe('LifecycleService', () => {
  let calls: { inFlight: number };
  let lifecycle: LifecycleService;
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    calls = { inFlight: 0 };
    lifecycle = new LifecycleService(calls as unknown as ToolInvoker);
  });
  afterEach(() => jest.restoreAllMocks());

  const pass = (req: Request) => {
    const res = fakeResponse();
    let passed = false;
    lifecycle.middleware()(req, res as unknown as Response, () => (passed = true));
    return { passed, res };
  };

  it('serves until the drain begins, then refuses new work with 503 and Connection: close', () => {
    expect(pass(request('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'initialize' })).passed).toBe(true);

    lifecycle.beginDrain();
    const { passed, res } = pass(request('POST', '/mcp', { jsonrpc: '2.0', id: 2, method: 'tools/call' }, { 'mcp-session-id': 's1' }));

    expect(lifecycle.draining).toBe(true);
    expect(passed).toBe(false);
    expect(res.statusCode).toBe(503);
    expect(res.headers).toMatchObject({ connection: 'close', 'retry-after': '1' });
    expect(pass(request('GET', '/sse')).passed).toBe(false);
    expect(pass(request('POST', '/mcp', { jsonrpc: '2.0', id: 3, method: 'initialize' })).passed).toBe(false);
  });

  it('while draining, lets answers and notifications on existing sessions through (a running call may wait for them)', () => {
    lifecycle.beginDrain();

    expect(pass(request('POST', '/mcp', { jsonrpc: '2.0', id: 7, result: { action: 'accept' } }, { 'mcp-session-id': 's1' })).passed).toBe(true);
    expect(pass(request('POST', '/messages', { jsonrpc: '2.0', method: 'notifications/cancelled' }, {}, { sessionId: 's2' })).passed).toBe(true);
    // ...but not without a session.
    expect(pass(request('POST', '/mcp', { jsonrpc: '2.0', id: 7, result: {} })).passed).toBe(false);
  });

  it('waits for running requests and tool calls, not for streams, up to the deadline', async () => {
    const call = pass(request('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/call' }));
    const stream = pass(request('GET', '/mcp'));
    const listen = pass(request('POST', '/mcp', { jsonrpc: '2.0', id: 2, method: 'subscriptions/listen' }));
    calls.inFlight = 1;
    lifecycle.beginDrain();

    const cut = await lifecycle.drained(60);
    expect(cut).toMatchObject({ requests: 1, calls: 1 });

    const waiting = lifecycle.drained(5000);
    calls.inFlight = 0;
    call.res.emit('close');
    const done = await waiting;
    expect(done).toMatchObject({ requests: 0, calls: 0 });
    expect(done.waitedMs).toBeLessThan(1000);
    void stream;
    void listen;
  });
});
