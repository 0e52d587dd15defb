import type { CallToolResult, InputRequiredResult } from '@modelcontextprotocol/server';
import { Logger } from '@nestjs/common';
import { z } from 'zod';
import type { ToolOptions } from './decorators/tool.decorator';
import type { Principal } from './principal';
import type { ToolCallContext } from './context';
import { jsonSchemaInput } from './json-schema-input';
import { ToolError } from './tool.error';
import { type ToolCallEvent, ToolInvoker } from './tool.invoker';
import { type RegisteredTool, type ToolHandler, McpRegistry } from './mcp.registry';

const principal: Principal = {
  id: 'token:ci',
  kind: 'service',
  displayName: 'ci',
  scopes: ['*'],
  authMethod: 'bearer',
};

function context(overrides: Partial<ToolCallContext> = {}): ToolCallContext {
  return {
    principal,
    era: 'modern',
    requestId: 'req-42',
    signal: new AbortController().signal,
    clientCapabilities: {},
    progress: async () => undefined,
    log: async () => undefined,
    requestState: () => undefined,
    mintState: async () => 'state',
    mcp: {} as ToolCallContext['mcp'],
    ...overrides,
  };
}

function register(handler: ToolHandler, definition: Partial<ToolOptions> = {}): RegisteredTool {
  return new McpRegistry().addTool({
    name: 'lookup',
    namespace: 'test',
    source: 'TestTools.lookup',
    definition: { name: 'lookup', description: 'Looks something up.', ...definition },
    handler,
  });
}

const text = (result: CallToolResult | InputRequiredResult) => (result as CallToolResult).content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

describe('ToolInvoker', () => {
  let invoker: ToolInvoker;
  let events: ToolCallEvent[];
  let logged: jest.SpyInstance;

  beforeEach(() => {
    invoker = new ToolInvoker({ server: { name: 't', version: '1' }, defaultTimeoutMs: 1000, requestState: { key: new Uint8Array(32), ttlSeconds: 60 } });
    events = [];
    invoker.addListener({ onToolCall: (e) => void events.push(e) });
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => logged.mockRestore());

  it('passes parsed input (with defaults) to the handler and returns a string as text', async () => {
    const handler = jest.fn((input: unknown) => `found ${JSON.stringify(input)}`);
    const tool = register(handler, { input: z.object({ id: z.number(), lang: z.string().default('en') }) });

    const result = await invoker.invoke(tool, { id: 7 }, context());

    expect(result).toEqual({ content: [{ type: 'text', text: 'found {"id":7,"lang":"en"}' }] });
    expect(result.isError).toBeUndefined();
    expect(events.map((e) => e.outcome)).toEqual(['ok']);
  });

  it('rejects invalid input with a message naming the field, without calling the handler', async () => {
    const handler = jest.fn(() => 'never');
    const tool = register(handler, { input: z.object({ project_id: z.number() }) });

    const result = await invoker.invoke(tool, { project_id: 'forty-two' }, context());

    expect(result.isError).toBe(true);
    expect(text(result)).toContain('Invalid arguments for lookup');
    expect(text(result)).toContain('project_id');
    expect(handler).not.toHaveBeenCalled();
    expect(events.map((e) => e.outcome)).toEqual(['invalid_input']);
  });

  it('validates a raw JSON Schema input and passes the arguments through unchanged', async () => {
    const handler = jest.fn((input: unknown) => `got ${JSON.stringify(input)}`);
    const input = jsonSchemaInput({ type: 'object', properties: { id: { type: 'integer' } }, required: ['id'], additionalProperties: false });
    const tool = register(handler, { input });

    expect(await invoker.invoke(tool, { id: 3 }, context())).toEqual({ content: [{ type: 'text', text: 'got {"id":3}' }] });
    const rejected = await invoker.invoke(tool, { id: 'x', extra: 1 }, context());

    expect(rejected.isError).toBe(true);
    expect(text(rejected)).toMatch(/^Invalid arguments for lookup:\n✖ .*must be integer/);
    expect(handler).toHaveBeenCalledTimes(1);
    expect(events.map((e) => e.outcome)).toEqual(['ok', 'invalid_input']);
  });

  it('shows the message of a ToolError', async () => {
    const tool = register(() => {
      throw new ToolError('project 42 not found');
    });

    const result = await invoker.invoke(tool, {}, context());

    expect(result).toEqual({ content: [{ type: 'text', text: 'project 42 not found' }], isError: true });
    expect(events[0]).toMatchObject({ outcome: 'tool_error', errorMessage: 'project 42 not found' });
    expect(events[0].errorCode).toBeUndefined();
  });

  it('passes the code and detail of a ToolError to listeners (the audit row), never to the caller', async () => {
    const tool = register(() => {
      throw new ToolError('host refused', { code: 'net_refused', detail: { address: '10.0.0.5', reason: 'private' } });
    });

    const result = await invoker.invoke(tool, {}, context());

    expect(result).toEqual({ content: [{ type: 'text', text: 'host refused' }], isError: true });
    expect(events[0]).toMatchObject({
      outcome: 'tool_error',
      errorMessage: 'host refused',
      errorCode: 'net_refused',
      detail: { address: '10.0.0.5', reason: 'private' },
    });
  });

  it('reports the code of a ToolError and what the handler added for the audit, even when it refuses', async () => {
    const tool = register((_input, ctx) => {
      ctx.auditDetail({ upstreamUser: 'alice' });
      ctx.auditDetail({ refusal: { reason: 'write_disabled' } });
      throw new ToolError('writes are disabled', { code: 'test.write_disabled' });
    });

    await invoker.invoke(tool, {}, context());

    expect(events[0]).toMatchObject({
      outcome: 'tool_error',
      errorCode: 'test.write_disabled',
      detail: { upstreamUser: 'alice', refusal: { reason: 'write_disabled' } },
    });
  });

  it('reports no detail when the handler added none', async () => {
    await invoker.invoke(register(() => 'ok'), {}, context());

    expect(events[0].detail).toBeUndefined();
    expect(events[0].errorCode).toBeUndefined();
  });

  it('hides the message of any other error, refers to the request id, and logs the details', async () => {
    const tool = register(async () => {
      throw new Error('connect to postgres://admin:hunter2@db failed');
    });

    const result = await invoker.invoke(tool, {}, context({ requestId: 'req-42' }));

    expect(result.isError).toBe(true);
    expect(text(result)).toContain('lookup failed with an internal error');
    expect(text(result)).toContain('req-42');
    expect(text(result)).not.toContain('hunter2');
    expect(events[0].outcome).toBe('error');
    expect(events[0].errorMessage).not.toContain('hunter2');
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.objectContaining({ message: expect.stringContaining('hunter2') }) }),
      'tool failed',
    );
  });

  it('times out a handler that runs longer than its timeoutMs, aborting its signal', async () => {
    let handlerSignal: AbortSignal | undefined;
    const tool = register(
      (_input, ctx) => {
        handlerSignal = ctx.signal;
        return new Promise(() => undefined); // never settles
      },
      { timeoutMs: 20 },
    );

    const result = await invoker.invoke(tool, {}, context());

    expect(result.isError).toBe(true);
    expect(text(result)).toContain('lookup timed out');
    expect(events[0].outcome).toBe('timeout');
    expect(handlerSignal?.aborted).toBe(true);
  });

  it('reports a client abort as cancelled and aborts the handler signal', async () => {
    const client = new AbortController();
    let handlerSignal: AbortSignal | undefined;
    const tool = register((_input, ctx) => {
      handlerSignal = ctx.signal;
      queueMicrotask(() => client.abort());
      return new Promise(() => undefined);
    });

    const result = await invoker.invoke(tool, {}, context({ signal: client.signal }));

    expect(result.isError).toBe(true);
    expect(text(result)).toContain('lookup was cancelled');
    expect(events[0].outcome).toBe('cancelled');
    expect(handlerSignal?.aborted).toBe(true);
  });

  describe('with an output schema', () => {
    const output = z.object({ id: z.number(), title: z.string() });

    it('returns a matching object as structured content and the same JSON as text', async () => {
      const tool = register(() => ({ id: 42, title: 'Fix login' }), { output });

      const result = await invoker.invoke(tool, {}, context());

      expect(result.isError).toBeUndefined();
      expect(result.structuredContent).toEqual({ id: 42, title: 'Fix login' });
      expect(JSON.parse(text(result))).toEqual(result.structuredContent);
      expect(events[0].outcome).toBe('ok');
    });

    it('turns a non-matching object into a generic internal error', async () => {
      const tool = register(() => ({ id: 'not-a-number', title: 'Fix login' }), { output });

      const result = await invoker.invoke(tool, {}, context());

      expect(result.isError).toBe(true);
      expect(result.structuredContent).toBeUndefined();
      expect(text(result)).toContain('lookup failed with an internal error');
      expect(text(result)).not.toContain('not-a-number');
      expect(events[0].outcome).toBe('error');
    });
  });

  it('passes a full CallToolResult through and JSON-encodes other values', async () => {
    const full: CallToolResult = { content: [{ type: 'text', text: 'as is' }] };

    expect(await invoker.invoke(register(() => full), {}, context())).toBe(full);
    expect(text(await invoker.invoke(register(() => ({ a: 1 })), {}, context()))).toBe('{"a":1}');
  });

  it('reports exactly one event per call with the caller and a duration', async () => {
    const tool = register(() => 'ok');

    await invoker.invoke(tool, {}, context({ era: 'legacy', sessionId: 'sess-1', requestId: 'req-7' }));

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      tool: 'lookup',
      namespace: 'test',
      principal,
      era: 'legacy',
      sessionId: 'sess-1',
      requestId: 'req-7',
      outcome: 'ok',
    });
    expect(events[0].errorMessage).toBeUndefined();
    expect(events[0].startedAt).toBeInstanceOf(Date);
    expect(events[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it('still answers and notifies later listeners when a listener throws', async () => {
    const later: ToolCallEvent[] = [];
    const first = new ToolInvoker({ server: { name: 't', version: '1' }, defaultTimeoutMs: 1000, requestState: { key: new Uint8Array(32), ttlSeconds: 60 } });
    first.addListener({
      onToolCall: () => {
        throw new Error('audit is down');
      },
    });
    first.addListener({ onToolCall: (e) => void later.push(e) });

    const result = await first.invoke(register(() => 'fine'), {}, context());

    expect(text(result)).toBe('fine');
    expect(later).toHaveLength(1);
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ tool: 'lookup' }), 'tool call listener failed');
  });

  it('counts calls in flight and tells a waiter when the last one ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    expect(invoker.inFlight).toBe(0);
    await invoker.whenIdle(); // nothing running: at once

    const call = invoker.invoke(register(() => gate.then(() => 'done')), {}, context());
    const failing = invoker.invoke(register(() => { throw new ToolError('no'); }), {}, context());
    expect(invoker.inFlight).toBe(2);
    let idle = false;
    const waiting = invoker.whenIdle().then(() => (idle = true));
    await failing;
    await new Promise((r) => setImmediate(r));
    expect([invoker.inFlight, idle]).toEqual([1, false]);

    release();
    expect(text(await call)).toBe('done');
    await waiting;
    expect([invoker.inFlight, idle]).toEqual([0, true]);
  });
});

describe('ToolInvoker with listeners that must finish first, and a result cap', () => {
  const options = { server: { name: 't', version: '1' }, defaultTimeoutMs: 1000, requestState: { key: new Uint8Array(32), ttlSeconds: 60 } };

  it('answers only after every listener promise has settled (the durable audit row)', async () => {
    const invoker = new ToolInvoker(options);
    let release!: () => void;
    const durable = new Promise<void>((resolve) => (release = resolve));
    invoker.addListener({ onToolCall: () => durable });
    let answered = false;
    const call = invoker.invoke(register(() => 'fine'), {}, context()).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    release();
    expect(text(await call)).toBe('fine');
  });

  it('truncates a result over maxResultBytes and reports it to listeners', async () => {
    const invoker = new ToolInvoker({ ...options, maxResultBytes: 4096 });
    const events: ToolCallEvent[] = [];
    invoker.addListener({ onToolCall: (e) => void events.push(e) });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const result = (await invoker.invoke(register(() => 'x'.repeat(100_000)), {}, context())) as CallToolResult;
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(4096);
    expect(text(result)).toMatch(/^x{3000,}\n\[Portico: this result was truncated: the tool returned 1000\d\d bytes, the limit is 4096 bytes/);
    expect(events[0]).toMatchObject({ outcome: 'ok', resultBytes: Buffer.byteLength(JSON.stringify(result)) });
    expect(events[0].detail).toEqual({ resultTruncated: expect.objectContaining({ originalBytes: expect.any(Number), droppedBlocks: 1 }) });
    expect(events[0].errorMessage).toBeUndefined();
    jest.restoreAllMocks();
  });
});
