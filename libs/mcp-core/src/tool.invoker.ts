import { type CallToolResult, type InputRequiredResult, isInputRequiredResult } from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { MCP_CORE_OPTIONS, type McpCoreOptions } from './mcp-core.options';
import type { Principal } from './principal';
import type { ToolCallContext, ToolContext } from './context';
import type { ToolInput } from './json-schema-input';
import { limitResult } from './result-limit';
import { ToolError } from './tool.error';
import type { RegisteredTool } from './mcp.registry';

/** `input_required`: the tool asked the client for input (a round of a multi-round call). */
export type ToolCallOutcome = 'ok' | 'input_required' | 'tool_error' | 'invalid_input' | 'error' | 'timeout' | 'cancelled';

/** What the invoker reports after every call, whatever its outcome. */
export interface ToolCallEvent {
  tool: string;
  namespace: string;
  principal: Principal;
  era: ToolContext['era'];
  sessionId?: string;
  requestId?: string;
  client?: ToolContext['client'];
  protocolVersion?: string;
  /** The arguments as received (audit redacts them; see the tool's input schema for `sensitive` fields). */
  arguments: unknown;
  /** The tool's input schema, for redaction of fields marked sensitive. */
  input?: RegisteredTool['definition']['input'];
  outcome: ToolCallOutcome;
  startedAt: Date;
  durationMs: number;
  /** Size of the serialized result in bytes. */
  resultBytes: number;
  /** The message the caller saw when the call failed (never a stack or a secret). */
  errorMessage?: string;
  /** The `code` of the {@link ToolError} the handler threw, if it gave one. */
  errorCode?: string;
  /** Facts for the audit log: what the handler added with `ctx.auditDetail(...)` and the `detail` of its ToolError. */
  detail?: Record<string, unknown>;
}

/**
 * Audit, metrics and the like plug in here. Must not throw and must not
 * block; may return a promise (never rejecting) that the answer waits for:
 * the audit log makes the call's row durable before the client hears back.
 */
export interface ToolCallListener {
  onToolCall(event: ToolCallEvent): void | Promise<void>;
}

/**
 * Runs a tool: input validation, timeout and cancellation, the handler,
 * output shaping, error mapping, and a {@link ToolCallEvent} for listeners.
 * Never throws: every failure becomes an `isError` result the model can read.
 */
@Injectable()
export class ToolInvoker {
  private readonly logger = new Logger('ToolInvoker');
  private readonly listeners: ToolCallListener[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(@Inject(MCP_CORE_OPTIONS) private readonly options: McpCoreOptions) {}

  addListener(listener: ToolCallListener): void {
    this.listeners.push(listener);
  }

  removeListener(listener: ToolCallListener): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /** Calls running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Resolves when no call is running (at once when none is): a graceful shutdown waits for it. */
  whenIdle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async invoke(tool: RegisteredTool, args: unknown, ctx: ToolCallContext): Promise<CallToolResult | InputRequiredResult> {
    const startedAt = new Date();
    const started = performance.now();
    const detail: Record<string, unknown> = {};
    const auditDetail = (more: Record<string, unknown>) => void Object.assign(detail, more);
    this.running++;
    let ran: Awaited<ReturnType<ToolInvoker['run']>>;
    try {
      ran = await this.run(tool, args, { ...ctx, auditDetail });
    } finally {
      if (--this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
    const { outcome, error } = ran;
    let { result } = ran;
    let resultBytes = Buffer.byteLength(JSON.stringify(result));
    const maxBytes = this.options.maxResultBytes;
    if (maxBytes && resultBytes > maxBytes && !isInputRequiredResult(result)) {
      const limited = limitResult(result, resultBytes, maxBytes, tool.name);
      this.logger.warn({ tool: tool.name, requestId: ctx.requestId, ...limited.truncation }, 'tool result truncated');
      result = limited.result;
      resultBytes = limited.truncation.sentBytes;
      detail.resultTruncated = limited.truncation;
    }
    const event: ToolCallEvent = {
      tool: tool.name,
      namespace: tool.namespace,
      principal: ctx.principal,
      era: ctx.era,
      sessionId: ctx.sessionId,
      requestId: ctx.requestId,
      client: ctx.client,
      protocolVersion: ctx.protocolVersion,
      arguments: args,
      input: tool.definition.input,
      outcome,
      startedAt,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      resultBytes,
      errorMessage: 'isError' in ran.result && ran.result.isError ? textOf(ran.result as CallToolResult) : undefined,
      errorCode: error?.code,
      detail: Object.keys(detail).length || error?.detail ? { ...detail, ...error?.detail } : undefined,
    };
    let waits: Promise<void>[] | undefined;
    for (const listener of this.listeners) {
      try {
        const done = listener.onToolCall(event);
        if (done) (waits ??= []).push(done);
      } catch (e) {
        this.logger.error({ err: e, tool: tool.name }, 'tool call listener failed');
      }
    }
    // The answer waits for what the listeners must finish first (the durable audit row).
    if (waits) await Promise.all(waits);
    return result;
  }

  private async run(
    tool: RegisteredTool,
    args: unknown,
    ctx: ToolContext,
  ): Promise<{ result: CallToolResult | InputRequiredResult; outcome: ToolCallOutcome; error?: ToolError }> {
    const parsed = parseInput(tool.definition.input, args ?? {});
    if (!parsed.success) {
      return { outcome: 'invalid_input', result: errorResult(`Invalid arguments for ${tool.name}:\n${parsed.message}`) };
    }
    const timeoutMs = tool.definition.timeoutMs ?? this.options.defaultTimeoutMs;
    // One controller and one timer per call: AbortSignal.timeout + AbortSignal.any cost several times more.
    const controller = new AbortController();
    const signal = controller.signal;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, timeoutMs);
    timer.unref();
    const cancel = () => controller.abort(ctx.signal.reason);
    if (ctx.signal.aborted) cancel();
    else ctx.signal.addEventListener('abort', cancel, { once: true });
    let onAbort: (() => void) | undefined;
    try {
      // The handler's value, or the abort reason as soon as the signal aborts (a handler that ignores its
      // signal is not waited for). One promise per call where Promise.race with an abort promise took four.
      const value = await new Promise<unknown>((resolve, reject) => {
        const returned = tool.handler(parsed.data, { ...ctx, signal });
        if (!isThenable(returned)) return resolve(returned);
        onAbort = () => reject(signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        returned.then(resolve, reject);
      });
      if (isInputRequiredResult(value)) return { outcome: 'input_required', result: value };
      return { outcome: 'ok', result: this.shape(tool, value) };
    } catch (e) {
      if (timedOut) {
        return { outcome: 'timeout', result: errorResult(`${tool.name} timed out after ${timeoutMs / 1000} s`) };
      }
      if (ctx.signal.aborted) {
        return { outcome: 'cancelled', result: errorResult(`${tool.name} was cancelled`) };
      }
      if (e instanceof ToolError) {
        return { outcome: 'tool_error', result: errorResult(e.message), error: e };
      }
      this.logger.error({ err: e, tool: tool.name, requestId: ctx.requestId }, 'tool failed');
      const ref = ctx.requestId ? ` (request ${ctx.requestId})` : '';
      return { outcome: 'error', result: errorResult(`${tool.name} failed with an internal error${ref}`) };
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', cancel);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Turns what a handler returned into a `CallToolResult`. */
  private shape(tool: RegisteredTool, value: unknown): CallToolResult {
    const output = tool.definition.output;
    if (output) {
      const checked = output.safeParse(value);
      if (!checked.success) {
        // A handler bug, not the caller's fault: details to the log only.
        throw new Error(`output of ${tool.name} does not match its schema: ${z.prettifyError(checked.error)}`);
      }
      const structured = checked.data as Record<string, unknown>;
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    }
    if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
    if (isCallToolResult(value)) return value;
    return { content: [{ type: 'text', text: JSON.stringify(value ?? null) }] };
  }
}

/** Validates arguments against a zod object or a raw JSON Schema input; the message is for the model. */
function parseInput(schema: ToolInput, args: unknown): { success: true; data: unknown } | { success: false; message: string } {
  if (schema instanceof z.ZodObject) {
    const parsed = schema.safeParse(args);
    return parsed.success ? { success: true, data: parsed.data } : { success: false, message: z.prettifyError(parsed.error) };
  }
  const result = schema['~standard'].validate(args);
  if (result instanceof Promise) throw new Error('asynchronous input schemas are not supported');
  if (!result.issues) return { success: true, data: result.value };
  return { success: false, message: result.issues.map((i) => `✖ ${i.message}`).join('\n') };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function errorResult(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function isCallToolResult(value: unknown): value is CallToolResult {
  return typeof value === 'object' && value !== null && Array.isArray((value as { content?: unknown }).content);
}

function textOf(result: CallToolResult): string {
  return result.content
    .map((c) => (c.type === 'text' ? c.text : ''))
    .join('\n')
    .slice(0, 1000);
}
