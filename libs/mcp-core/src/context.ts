import type { ClientCapabilities, ServerContext } from '@modelcontextprotocol/server';
import type { Principal } from './principal';

export type ToolLogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

/** What every handler (tool, resource, prompt) gets. */
export interface McpContext {
  principal: Principal;
  /** Which protocol era the request arrived on. */
  era: 'modern' | 'legacy';
  /** Legacy-era session id; undefined in the stateless modern era. */
  sessionId?: string;
  /** The HTTP request id (also in every log line of this request). */
  requestId?: string;
  /** Fires when the client cancels, the connection drops, or (tools) the call times out. */
  signal: AbortSignal;
  /** The client as it named itself (`clientInfo`: per request in the modern era, at `initialize` in a legacy session). Unauthenticated: for logs and audit only. */
  client?: { name: string; version?: string };
  /** The protocol revision of this request. */
  protocolVersion?: string;
  /**
   * What the client declared it can do: per request in the modern era
   * (`_meta` `io.modelcontextprotocol/clientCapabilities`), at `initialize`
   * in a legacy session. Ask for input (`inputRequired`) only of a kind the
   * client declared: elicitation, sampling or roots. Empty when unknown.
   */
  clientCapabilities: ClientCapabilities;
  /**
   * Answers to the input requests of the previous round, keyed as requested
   * (see `inputRequired`). Untrusted: read them with
   * `acceptedContent(ctx.inputResponses, key, schema)` or `inputResponse(ctx.inputResponses, key)`.
   * Tools, prompts and resources may all return `inputRequired(...)`; in a
   * legacy session the SDK turns that into real server→client requests.
   */
  inputResponses?: Record<string, unknown>;
  /** The verified `requestState` of this round (signed and expiring), if any. */
  requestState<T>(): T | undefined;
  /** Signs state to return with `inputRequired({ requestState })`; it comes back verified next round. */
  mintState(state: object): Promise<string>;
  /** The SDK's request context, for what Portico does not wrap (rarely needed). */
  mcp: ServerContext;
}

/** What a tool handler gets besides its parsed input. */
export interface ToolContext extends McpContext {
  /** Reports progress when the client asked for it (a no-op otherwise). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /**
   * Sends a log message to the client for this call, if the client asked for
   * that level or above (legacy: `logging/setLevel`; modern: the request's
   * `_meta` log level, without which nothing is sent).
   */
  log(level: ToolLogLevel, message: string): Promise<void>;
  /**
   * Adds facts to the audit record of this call, whatever its outcome: e.g.
   * the upstream account a tool acted as, or why it refused. Later calls
   * merge into earlier ones. Never put a secret here: it is stored as given.
   */
  auditDetail(detail: Record<string, unknown>): void;
}

/** What the invoker is handed: the invoker itself adds {@link ToolContext.auditDetail}. */
export type ToolCallContext = Omit<ToolContext, 'auditDetail'>;
