import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { closedPort, fakePing, type LocalHttpServer, startHttpServer, startTcpListener } from '../support/net-servers';
import { tempDirs } from '../support/temp-dirs';

type CallResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> };

async function connect(portico: TestPortico): Promise<Client> {
  const client = new Client({ name: 'e2e-net', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));
  return client;
}

const textOf = (result: CallResult) => result.content.map((c) => c.text ?? '').join('\n');

/**
 * The network tools through a real client, against servers this test starts
 * on 127.0.0.1: they work when the SSRF guard is configured to allow
 * loopback (NET_ALLOW=127.0.0.1), and with the default configuration every
 * one of them is refused before any connection, with an audit row that says
 * why.
 */
describe('network tools (net_*)', () => {
  const tempDir = tempDirs('portico-net-e2e-');
  let web: LocalHttpServer;
  let listener: Awaited<ReturnType<typeof startTcpListener>>;
  let closed: number;

  beforeAll(async () => {
    web = await startHttpServer((req, res, origin) => {
      switch (req.url) {
        case '/status':
          return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><head><title>Build status</title></head><body><h1>Green</h1><p>All 42 checks passed.</p></body></html>');
        case '/moved':
          return res.writeHead(301, { location: `${origin}/status` }).end();
        case '/to-metadata':
          return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end();
        case '/log':
          return res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('line\n'.repeat(10_000));
        default:
          return res.writeHead(404).end();
      }
    });
    listener = await startTcpListener();
    closed = await closedPort();
  });

  afterAll(async () => {
    await web?.close();
    await listener?.close();
  });

  describe('with the guard configured to allow loopback', () => {
    let portico: TestPortico;
    let client: Client;
    let ping: ReturnType<typeof fakePing>;

    beforeAll(async () => {
      ping = fakePing(tempDir());
      portico = await bootPortico({ NET_ALLOW: '127.0.0.1', NET_ICMP_ENABLED: 'true', NET_PING_PATH: ping.path });
      client = await connect(portico);
    });

    afterAll(async () => {
      await client?.close();
      await portico?.stop();
    });

    it('lists the three tools, read-only and open-world', async () => {
      const { tools } = await client.listTools();
      const net = tools.filter((t) => t.name.startsWith('net_'));

      expect(net.map((t) => t.name).sort()).toEqual(['net_check_common_ports', 'net_fetch_page', 'net_ping_host']);
      for (const tool of net) expect(tool.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: true });
    });

    it('net_ping_host: TCP connects to the chosen port and reports each round trip', async () => {
      const before = listener.accepted();
      const result = (await client.callTool({ name: 'net_ping_host', arguments: { host: '127.0.0.1', port: listener.port, count: 3 } })) as CallResult;

      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ host: '127.0.0.1', address: '127.0.0.1', method: 'tcp', port: listener.port, sent: 3, received: 3, loss_percent: 0, reachable: true });
      expect((result.structuredContent!.replies as { result: string }[]).map((r) => r.result)).toEqual(['reply', 'reply', 'reply']);
      expect(listener.accepted() - before).toBe(3);
    });

    it('net_ping_host: a refused port still proves the host is up', async () => {
      const result = (await client.callTool({ name: 'net_ping_host', arguments: { host: '127.0.0.1', port: closed, count: 2 } })) as CallResult;

      expect(result.structuredContent).toMatchObject({ received: 2, reachable: true, replies: [{ result: 'refused' }, { result: 'refused' }] });
    });

    it('net_ping_host: ICMP runs the configured ping on the resolved address', async () => {
      const result = (await client.callTool({ name: 'net_ping_host', arguments: { host: '2130706433', method: 'icmp', count: 2 } })) as CallResult;

      expect(result.structuredContent).toMatchObject({ host: '127.0.0.1', method: 'icmp', port: null, sent: 2, received: 2, rtt_ms: { min: 0.03, avg: 0.035, max: 0.04 } });
      expect(ping.calls().at(-1)).toEqual(['-4', '-n', '-c', '2', '-i', '0.2', '-W', '2', '--', '127.0.0.1']);
    });

    it('net_check_common_ports: open, closed and the defaults, in parallel', async () => {
      const result = (await client.callTool({ name: 'net_check_common_ports', arguments: { host: '127.0.0.1', ports: [listener.port, closed] } })) as CallResult;

      expect(result.structuredContent).toMatchObject({
        address: '127.0.0.1',
        open: [listener.port],
        results: [
          { port: listener.port, state: 'open' },
          { port: closed, state: 'closed' },
        ],
      });
      const defaults = (await client.callTool({ name: 'net_check_common_ports', arguments: { host: '127.0.0.1', timeout_ms: 300 } })) as CallResult;
      expect((defaults.structuredContent!.results as { port: number }[]).map((r) => r.port)).toEqual([22, 80, 443, 3000, 5000, 8000, 8080]);
    });

    it('net_fetch_page: follows a redirect and returns the page as text, by url or by host and port', async () => {
      const byUrl = (await client.callTool({ name: 'net_fetch_page', arguments: { url: `${web.origin}/moved` } })) as CallResult;

      expect(byUrl.structuredContent).toMatchObject({
        status: 200,
        content_type: 'text/html',
        final_url: `${web.origin}/status`,
        redirects: [{ url: `${web.origin}/moved`, status: 301 }],
        title: 'Build status',
        truncated: false,
      });
      expect(byUrl.structuredContent!.text).toContain('All 42 checks passed.');

      const byHost = (await client.callTool({ name: 'net_fetch_page', arguments: { host: '127.0.0.1', port: web.port, path: '/status' } })) as CallResult;
      expect(byHost.structuredContent).toMatchObject({ url: `${web.origin}/status`, status: 200, title: 'Build status' });
    });

    it('net_fetch_page: truncates at max_bytes and reports it', async () => {
      const result = (await client.callTool({ name: 'net_fetch_page', arguments: { url: `${web.origin}/log`, max_bytes: 12 } })) as CallResult;

      expect(result.structuredContent).toMatchObject({ bytes: 12, max_bytes: 12, truncated: true, text: 'line\nline\nli' });
      const whole = (await client.callTool({ name: 'net_fetch_page', arguments: { url: `${web.origin}/log`, max_bytes: 50_000 } })) as CallResult;
      expect(whole.structuredContent).toMatchObject({ bytes: 50_000, truncated: false });
    });

    it('net_fetch_page: a redirect to the metadata service is refused at that hop, and audited with the reason', async () => {
      const before = new Date();
      const result = (await client.callTool({ name: 'net_fetch_page', arguments: { url: `${web.origin}/to-metadata` } })) as CallResult;

      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^Refused: 169\.254\.169\.254 is a cloud metadata address\./);
      const rows = await portico.auditRows(`kind = 'tool_call' AND tool = 'net_fetch_page' AND outcome = 'tool_error' AND occurred_at >= $1`, [before]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        error_code: 'net_refused',
        detail: { guard: 'ssrf', host: '169.254.169.254', reason: 'metadata', rule: 'default', hop: 1, redirected_from: `${web.origin}/to-metadata` },
      });
    });
  });

  describe('with the default configuration', () => {
    let portico: TestPortico;
    let client: Client;

    beforeAll(async () => {
      portico = await bootPortico();
      client = await connect(portico);
    });

    afterAll(async () => {
      await client?.close();
      await portico?.stop();
    });

    it.each([
      ['net_ping_host', () => ({ host: '127.0.0.1', port: listener.port, count: 1 }), '127.0.0.1', 'is a loopback address'],
      ['net_check_common_ports', () => ({ host: 'localhost', ports: [listener.port] }), 'localhost', 'resolves to a loopback address'],
      ['net_fetch_page', () => ({ url: `${web.origin}/status` }), '127.0.0.1', 'is a loopback address'],
      ['net_fetch_page', () => ({ host: '0x7f000001', port: web.port, path: '/status' }), '127.0.0.1', 'is a loopback address'],
    ])('%s is refused before connecting, and the audit row says why', async (tool, args, host, why) => {
      const before = new Date();
      const [accepted, requests] = [listener.accepted(), web.requests.length];

      const result = (await client.callTool({ name: tool, arguments: args() })) as CallResult;

      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(`Refused: ${host} ${why}. Network tools on this server reach public addresses only; an administrator can open others with NET_ALLOW.`);
      expect([listener.accepted(), web.requests.length]).toEqual([accepted, requests]);
      const rows = await portico.auditRows(`kind = 'tool_call' AND tool = $1 AND occurred_at >= $2`, [tool, before]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        outcome: 'tool_error',
        error_code: 'net_refused',
        error_message: expect.stringMatching(/^Refused: /),
        detail: expect.objectContaining({ guard: 'ssrf', host, reason: 'loopback', rule: 'default' }),
        principal_id: 'token:alice',
      });
    });

    it('keeps ICMP off unless NET_ICMP_ENABLED', async () => {
      const result = (await client.callTool({ name: 'net_ping_host', arguments: { host: '127.0.0.1', method: 'icmp' } })) as CallResult;

      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe('ICMP ping is disabled on this server (NET_ICMP_ENABLED); use method "tcp"');
    });

    it('rejects a host that is a URL, naming the argument', async () => {
      const result = (await client.callTool({ name: 'net_ping_host', arguments: { host: 'http://127.0.0.1/' } })) as CallResult;

      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/host[\s\S]*"http:\/\/127\.0\.0\.1\/" is not a host name or IP address/);
    });
  });
});
