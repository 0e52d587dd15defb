import type { CacheHint } from '@modelcontextprotocol/server';

export interface McpCoreOptions {
  /** serverInfo and instructions sent to clients. */
  server: { name: string; title?: string; version: string; instructions?: string };
  /** Timeout for tools that set none, in milliseconds. */
  defaultTimeoutMs: number;
  /**
   * Largest tool result sent (serialized bytes); a larger one is truncated
   * with a note to the model (see `limitResult`). Unset: no limit.
   */
  maxResultBytes?: number;
  /**
   * HMAC key (at least 32 bytes) signing the `requestState` of multi-round
   * calls, and how long a state stays valid. Every instance of a fleet needs
   * the same key.
   */
  requestState: { key: Uint8Array; ttlSeconds: number };
  /** Items per page of tools/list, resources/list, resources/templates/list and prompts/list. Default 100. */
  pageSize?: number;
  /** Cache hints (2026-07-28) for list and discover results. Default: 60 s, private. */
  listCacheHint?: CacheHint;
}

export const MCP_CORE_OPTIONS = Symbol('MCP_CORE_OPTIONS');
