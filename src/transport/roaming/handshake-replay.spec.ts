import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, McpServer } from '@modelcontextprotocol/server';
import { replayHandshake } from './handshake-replay';

/**
 * The canary of the one SDK workaround: what a replayed handshake leaves on
 * a fresh server must survive its reconnection to another transport. If an
 * SDK upgrade breaks this, roaming legacy sessions lose their client's
 * capabilities and log level: this test fails first.
 */
describe('replayHandshake', () => {
  const initialize = {
    protocolVersion: '2025-06-18',
    capabilities: { elicitation: { form: {} }, sampling: {} },
    clientInfo: { name: 'vscode', version: '1.99.0' },
  };

  function server() {
    const s = new McpServer({ name: 'test', version: '1' }, { capabilities: { logging: {} } });
    s.registerTool('shout', { description: 'Logs at info and at error.' }, async (ctx) => {
      await ctx.mcpReq.log('info', 'an info line');
      await ctx.mcpReq.log('error', 'an error line');
      return { content: [{ type: 'text', text: JSON.stringify(s.server.getClientCapabilities()) }] };
    });
    return s;
  }

  it('restores client capabilities, client info and the negotiated version, across reconnection', async () => {
    const s = server();
    await replayHandshake(s, { initialize });

    expect(s.server.getClientCapabilities()).toEqual(initialize.capabilities);
    expect(s.server.getClientVersion()).toEqual(initialize.clientInfo);
    expect(s.server.getNegotiatedProtocolVersion()).toBe('2025-06-18');
    expect(s.isConnected()).toBe(false);

    // Connected to another transport (as to a request's HTTP transport), the state holds.
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await s.connect(serverSide);
    expect(s.server.getClientCapabilities()).toEqual(initialize.capabilities);
    expect(s.server.getNegotiatedProtocolVersion()).toBe('2025-06-18');
    await clientSide.close();
  });

  it('restores the log level: below it nothing is sent', async () => {
    const s = server();
    await replayHandshake(s, { initialize: { ...initialize, protocolVersion: '2025-11-25' }, logLevel: 'error' });

    const client = new Client({ name: 'c', version: '1' });
    const levels: string[] = [];
    client.setNotificationHandler('notifications/message', (n) => void levels.push((n.params as { level: string }).level));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await s.connect(serverSide);
    await client.connect(clientSide);
    // The client's own handshake would override the replayed one; what matters is the level, set by replay only.
    await client.callTool({ name: 'shout', arguments: {} });
    expect(levels).toEqual(['error']);
    await client.close();
  });

  it('fails loudly on a handshake the server refuses', async () => {
    await expect(replayHandshake(server(), { initialize: { protocolVersion: 7 } as never })).rejects.toThrow(/replaying initialize failed/);
  });
});
