export interface McpCoreOptions {
  /** serverInfo and instructions sent to clients. */
  server: { name: string; title?: string; version: string; instructions?: string };
  /** Timeout for tools that set none, in milliseconds. */
  defaultTimeoutMs: number;
}

export const MCP_CORE_OPTIONS = Symbol('MCP_CORE_OPTIONS');
