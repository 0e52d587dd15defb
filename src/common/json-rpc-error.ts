import type { Response } from 'express';

/**
 * Writes an HTTP error as a JSON-RPC error object without an id, the shape
 * MCP clients expect on `/mcp` (and harmless elsewhere).
 */
export function sendJsonRpcError(res: Response, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** JSON-RPC codes Portico uses on HTTP-level errors. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  ServerError: -32000,
  /** Not a spec code: used by the SDK and peers for "session not found". */
  SessionNotFound: -32001,
  InternalError: -32603,
} as const;
