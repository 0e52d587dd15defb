import type { Principal } from './principal';

export type ToolLogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

/** What a tool handler gets besides its parsed input. */
export interface ToolContext {
  principal: Principal;
  /** Which protocol era the call arrived on. */
  era: 'modern' | 'legacy';
  /** Legacy-era session id; undefined in the stateless modern era and on stdio. */
  sessionId?: string;
  /** The HTTP request id (also in every log line of this call). */
  requestId?: string;
  /** Fires when the client cancels, the connection drops, or the tool times out. */
  signal: AbortSignal;
  /** Reports progress when the client asked for it (a no-op otherwise). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Sends a log message to the client for this call. */
  log(level: ToolLogLevel, message: string): Promise<void>;
}
