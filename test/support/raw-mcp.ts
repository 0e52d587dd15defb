/** Headers of a raw Streamable HTTP POST. */
export const ACCEPT = { Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' };

/** The legacy-era revision raw requests speak. */
export const LEGACY = '2025-11-25';

/** A legacy-era `initialize`, as a raw client would send it. */
export const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'raw-http', version: '1' } },
};
