/** The modern protocol revision (stateless, `server/discover`). */
export const MODERN = '2026-07-28';
/** The legacy revision the doctor initializes with. */
export const LEGACY = '2025-11-25';

/** Both media types, as every Streamable HTTP POST must accept. */
export const POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A modern-era request: its body (per-request `_meta`) and headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`). */
export function modernRequest(id: number, method: string, params: Record<string, unknown> = {}, name?: string) {
  return {
    headers: { ...POST_HEADERS, 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method,
      params: {
        ...params,
        _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
      },
    }),
  };
}

/** A legacy-era `initialize`. */
export function initializeRequest(clientVersion: string) {
  return {
    headers: { ...POST_HEADERS },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'portico-doctor', version: clientVersion } },
    }),
  };
}

/** A legacy-era message inside a session. */
export function sessionMessage(sessionId: string, message: Record<string, unknown>) {
  return {
    headers: { ...POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY },
    body: JSON.stringify({ jsonrpc: '2.0', ...message }),
  };
}

/** A JSON-RPC message from an answer: the JSON body, or the SSE event carrying the response to `id`. */
export function jsonRpcAnswer(body: string, contentType: string | undefined, id: number): { result?: Record<string, unknown>; error?: { code: number; message: string } } | undefined {
  const candidates: unknown[] = [];
  if (contentType?.includes('text/event-stream')) {
    for (const block of body.replace(/\r\n?/g, '\n').split('\n\n')) {
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (!data) continue;
      try {
        candidates.push(JSON.parse(data));
      } catch {
        // not JSON: not a JSON-RPC message
      }
    }
  } else {
    try {
      candidates.push(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return candidates.find((m): m is { id: number } => typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id) as
    | { result?: Record<string, unknown>; error?: { code: number; message: string } }
    | undefined;
}
