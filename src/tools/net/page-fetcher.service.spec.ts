import { ToolError } from '@portico/mcp-core';
import { gzipSync } from 'node:zlib';
import { closedPort, type LocalHttpServer, startHttpServer } from '../../../test/support/net-servers';
import { loadConfig } from '../../config/app-config';
import { PageFetcher } from './page-fetcher.service';
import type { HostResolver } from './ssrf/host-resolver';
import { NetRefusedError } from './ssrf/net-refused.error';
import { SsrfGuard } from './ssrf/ssrf-guard.service';

/** Names for the redirect tests: `site.test` is the local server; the others point inside the network. */
class FakeResolver implements HostResolver {
  lookups: string[] = [];
  constructor(private readonly answer: (host: string, nth: number) => string[]) {}
  async resolve(host: string): Promise<string[]> {
    this.lookups.push(host);
    return this.answer(host, this.lookups.filter((h) => h === host).length);
  }
}

const NAMES: Record<string, string[]> = {
  'site.test': ['127.0.0.1'],
  'internal.test': ['10.20.30.40'],
  'meta.test': ['169.254.169.254'],
};

describe('PageFetcher', () => {
  let server: LocalHttpServer;
  const big = 'x'.repeat(50_000);

  beforeAll(async () => {
    server = await startHttpServer((req, res, origin) => {
      const port = origin.split(':').pop();
      const url = new URL(req.url!, origin);
      const redirect = (to: string, status = 302) => res.writeHead(status, { location: to }).end();
      switch (url.pathname) {
        case '/page':
          return res
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
            .end('<html><head><title>Status &amp; health</title><style>p{}</style></head><body><h1>All good</h1><p>Served to <a href="/who">you</a>.</p><script>evil()</script></body></html>');
        case '/hop1':
          return redirect(`http://site.test:${port}/hop2`, 301);
        case '/hop2':
          return redirect('/page', 307);
        case '/to-private':
          return redirect('http://10.0.0.5/admin');
        case '/to-private-name':
          return redirect(`http://internal.test:${port}/`);
        case '/to-mapped-metadata':
          return redirect('http://[::ffff:169.254.169.254]/latest/meta-data/');
        case '/to-metadata-name':
          return redirect('http://meta.test/computeMetadata/v1/');
        case '/to-decimal-loopback':
          return redirect(`http://2130706433:${port}/page`);
        case '/to-ftp':
          return redirect('ftp://site.test/file');
        case '/loop':
          return redirect('/loop');
        case '/big':
          return res.writeHead(200, { 'content-type': 'text/plain' }).end(big);
        case '/gzip':
          return res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(gzipSync(big));
        case '/latin1':
          return res.writeHead(200, { 'content-type': 'text/plain; charset=iso-8859-1' }).end(Buffer.from('Grüße', 'latin1'));
        case '/png':
          return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        default:
          return res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      }
    });
  });

  afterAll(() => server.close());

  function fetcher(env: Record<string, string> = { NET_ALLOW: '127.0.0.1' }, answer = (host: string) => NAMES[host] ?? []) {
    const config = loadConfig(env, '/srv');
    const resolver = new FakeResolver(answer);
    return { fetcher: new PageFetcher(new SsrfGuard(config, resolver), config), resolver };
  }

  const fetchPage = (path: string, maxBytes = 100_000, env?: Record<string, string>) =>
    fetcher(env).fetcher.fetch(new URL(`http://site.test:${server.port}${path}`), maxBytes, new AbortController().signal);

  async function refusal(promise: Promise<unknown>): Promise<NetRefusedError> {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    if (!(error instanceof NetRefusedError)) throw new Error(`expected a NetRefusedError, got ${String(error)}`);
    return error;
  }

  it('connects to the resolved address with the original Host header, and turns HTML into text', async () => {
    const page = await fetchPage('/page');

    expect(page).toMatchObject({ status: 200, status_text: 'OK', content_type: 'text/html; charset=utf-8', truncated: false, title: 'Status & health', redirects: [] });
    expect(page.text).toBe('All good\n\nServed to you [/who].');
    expect(server.requests.at(-1)).toEqual({ method: 'GET', url: '/page', host: `site.test:${server.port}` });
  });

  it('follows redirects, checking each hop, and reports them', async () => {
    const { fetcher: f, resolver } = fetcher();
    const page = await f.fetch(new URL(`http://site.test:${server.port}/hop1`), 100_000, new AbortController().signal);

    expect(page.final_url).toBe(`http://site.test:${server.port}/page`);
    expect(page.redirects).toEqual([
      { url: `http://site.test:${server.port}/hop1`, status: 301 },
      { url: `http://site.test:${server.port}/hop2`, status: 307 },
    ]);
    expect(resolver.lookups).toEqual(['site.test', 'site.test', 'site.test']);
  });

  it.each([
    ['/to-private', { hop: 1, host: '10.0.0.5', reason: 'private', url: 'http://10.0.0.5/admin' }],
    ['/to-private-name', { hop: 1, host: 'internal.test', address: '10.20.30.40', reason: 'private' }],
    ['/to-mapped-metadata', { hop: 1, host: '::ffff:a9fe:a9fe', reason: 'metadata', embedded: { form: 'IPv4-mapped', ipv4: '169.254.169.254' } }],
    ['/to-metadata-name', { hop: 1, host: 'meta.test', address: '169.254.169.254', reason: 'metadata' }],
  ])('refuses a redirect (%s) to an address the policy does not allow, before connecting', async (path, detail) => {
    const before = server.requests.length;

    const error = await refusal(fetchPage(path));

    expect(error.refusal).toMatchObject({ ...detail, redirected_from: `http://site.test:${server.port}${path}` });
    expect(error.message).toMatch(/^Refused: /);
    expect(server.requests.length).toBe(before + 1);
  });

  it('refuses a redirect to loopback in decimal form when loopback is not allowed, and follows it when it is', async () => {
    const allowed = { NET_ALLOW: '127.0.0.1' };
    await expect(fetchPage('/to-decimal-loopback', 100_000, allowed)).resolves.toMatchObject({ final_url: `http://127.0.0.1:${server.port}/page` });

    const onlyTheName = { NET_ALLOW: 'site.test' };
    const error = await refusal(fetchPage('/to-decimal-loopback', 100_000, onlyTheName));
    expect(error.refusal).toMatchObject({ hop: 1, host: '127.0.0.1', reason: 'loopback' });
  });

  it('refuses the first URL too, with the default policy', async () => {
    const error = await refusal(fetchPage('/page', 100_000, {}));

    expect(error.refusal).toMatchObject({ host: 'site.test', address: '127.0.0.1', reason: 'loopback', url: `http://site.test:${server.port}/page` });
    expect(error.refusal.hop).toBeUndefined();
  });

  it('resolves each hop once and connects to that answer, so a rebinding resolver cannot switch it', async () => {
    const { fetcher: f, resolver } = fetcher({ NET_ALLOW: '127.0.0.1' }, (host) => (resolver.lookups.length === 1 ? ['127.0.0.1'] : ['10.0.0.1']));

    await expect(f.fetch(new URL(`http://rebind.test:${server.port}/page`), 1000, new AbortController().signal)).resolves.toMatchObject({ status: 200 });
    expect(resolver.lookups).toEqual(['rebind.test']);
  });

  it('stops at other schemes and after too many redirects', async () => {
    await expect(fetchPage('/to-ftp')).rejects.toThrow('Only http and https pages can be fetched (redirect 1 goes to a ftp: URL)');
    await expect(fetchPage('/loop')).rejects.toMatchObject({ code: 'net_too_many_redirects', message: expect.stringMatching(/^Stopped after 5 redirects/) });
  });

  it('reads at most max_bytes and says so', async () => {
    const page = await fetchPage('/big', 1000);

    expect(page).toMatchObject({ bytes: 1000, truncated: true, max_bytes: 1000 });
    expect(page.text).toBe('x'.repeat(1000));
    expect(await fetchPage('/big', 50_000)).toMatchObject({ bytes: 50_000, truncated: false });
  });

  it('counts decompressed bytes, so a small gzip body cannot unpack past the limit', async () => {
    expect(await fetchPage('/gzip', 2000)).toMatchObject({ bytes: 2000, truncated: true, text: 'x'.repeat(2000) });
  });

  it('decodes the declared charset and leaves binary content out', async () => {
    expect((await fetchPage('/latin1')).text).toBe('Grüße');
    expect(await fetchPage('/png')).toMatchObject({ content_type: 'image/png', bytes: 4, text: null, title: null });
  });

  it('reports the status of error pages rather than failing', async () => {
    expect(await fetchPage('/missing')).toMatchObject({ status: 404, text: 'not here' });
  });

  it('turns a refused connection into a tool error naming the host', async () => {
    const port = await closedPort();
    const error = await fetcher().fetcher.fetch(new URL(`http://site.test:${port}/`), 100, new AbortController().signal).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ToolError);
    expect(error).toMatchObject({ message: `Connection to site.test:${port} was refused`, code: 'net_fetch_failed' });
  });
});
