import type { Request, Response } from 'express';

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

/**
 * Answers a JSON-RPC batch (an array body) with 400 and returns true. No
 * revision Portico serves has batches: 2025-03-26 added them, 2025-06-18
 * removed them again.
 */
export function rejectBatch(req: Request, res: Response): boolean {
  if (!Array.isArray(req.body)) return false;
  sendJsonRpcError(res, 400, JsonRpcCode.InvalidRequest, 'Batch requests are not supported: send one JSON-RPC message per request');
  return true;
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
