import { InMemoryTransport, type JSONRPCMessage, type McpServer } from '@modelcontextprotocol/server';

/** What a session's handshake left on its server, as stored with its record. */
export interface Handshake {
  /** The params of the session's `initialize` request. */
  initialize: Record<string, unknown>;
  /** The level of the session's last `logging/setLevel`, if any. */
  logLevel?: string;
}

/**
 * THE WORKAROUND (docs/scaling.md, shared research "sessions-scaling"): the
 * SDK (2.4.0, pinned) cannot rebuild a transport for an existing session, and
 * keeps what a session negotiated (client capabilities and info, protocol
 * version, log level) in private fields of the server. So a session served by
 * an instance that did not open it gets a fresh server that is told the
 * session's handshake again, in-process, through the SDK's public
 * InMemoryTransport: `initialize` with the stored params, then
 * `logging/setLevel`. The server is then disconnected from that pair and
 * connected to the HTTP transport of the request; `Protocol.close()` keeps
 * what the handshake set (current behaviour, not a documented contract:
 * `handshake-replay.spec.ts` fails the day it changes). Nothing reaches the
 * client. Watch SDK issue #1882 (`adoptSession`), which would replace this.
 */
export async function replayHandshake(server: McpServer, handshake: Handshake): Promise<void> {
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const pending = new Map<number, (message: JSONRPCMessage) => void>();
  client.onmessage = (message) => {
    const id = (message as { id?: unknown }).id;
    if (typeof id === 'number') pending.get(id)?.(message);
  };
  const call = (id: number, method: string, params: Record<string, unknown>) =>
    new Promise<void>((resolve, reject) => {
      pending.set(id, (message) => {
        const error = (message as { error?: { message?: string } }).error;
        if (error) reject(new Error(`replaying ${method} failed: ${error.message}`));
        else resolve();
      });
      void client.send({ jsonrpc: '2.0', id, method, params }).catch(reject);
    });
  await server.connect(serverSide);
  try {
    await client.start();
    await call(0, 'initialize', handshake.initialize);
    if (handshake.logLevel) await call(1, 'logging/setLevel', { level: handshake.logLevel });
  } finally {
    await server.close();
  }
}
