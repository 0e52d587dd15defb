import { ToolError } from '@portico/mcp-core';
import { loadConfig } from '../../../config/app-config';
import type { HostResolver } from './host-resolver';
import { NetRefusedError } from './net-refused.error';
import { normalizeHost, SsrfGuard } from './ssrf-guard.service';

/** A resolver that answers from a table, and counts its lookups. */
class TableResolver implements HostResolver {
  lookups: string[] = [];
  constructor(private readonly table: Record<string, string[]>) {}
  async resolve(host: string): Promise<string[]> {
    this.lookups.push(host);
    const answers = this.table[host];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answers;
  }
}

const NAMES = {
  'public.example': ['93.184.215.14'],
  'dual.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'internal.example': ['10.1.2.3'],
  'rebind.example': ['93.184.215.14', '127.0.0.1'],
  'ula.example': ['fd00::5'],
  'mapped.example': ['::ffff:127.0.0.1'],
  'metadata-alias.example': ['169.254.169.254'],
  'wiki.corp.example': ['10.0.0.7'],
  'a.corp.example': ['10.0.0.8'],
  'corp.example': ['10.0.0.9'],
  'sneaky.corp.example': ['169.254.169.254'],
  'zero.corp.example': ['0.0.0.0'],
};

function guard(env: Record<string, string> = {}) {
  const resolver = new TableResolver(NAMES);
  return { guard: new SsrfGuard(loadConfig(env, '/srv'), resolver), resolver };
}

async function refusal(promise: Promise<unknown>): Promise<NetRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof NetRefusedError)) throw new Error(`expected a NetRefusedError, got ${String(error)}`);
  return error;
}

describe('SsrfGuard', () => {
  describe('with the default configuration', () => {
    it.each([
      // IPv4 loopback in every spelling getaddrinfo and URL parsers accept
      ['127.0.0.1', 'loopback', '127.0.0.1'],
      ['127.255.255.254', 'loopback', '127.255.255.254'],
      ['2130706433', 'loopback', '127.0.0.1'],
      ['0x7f000001', 'loopback', '127.0.0.1'],
      ['0x7f.0.0.1', 'loopback', '127.0.0.1'],
      ['0177.0.0.1', 'loopback', '127.0.0.1'],
      ['017700000001', 'loopback', '127.0.0.1'],
      ['127.1', 'loopback', '127.0.0.1'],
      // localhost variants (never sent to the resolver)
      ['localhost', 'loopback', 'localhost'],
      ['LOCALHOST', 'loopback', 'localhost'],
      ['localhost.', 'loopback', 'localhost'],
      ['api.localhost', 'loopback', 'api.localhost'],
      // IPv6 loopback and unspecified
      ['::1', 'loopback', '::1'],
      ['[::1]', 'loopback', '::1'],
      ['0:0:0:0:0:0:0:1', 'loopback', '::1'],
      ['0', 'unspecified', '0.0.0.0'],
      ['0.0.0.0', 'unspecified', '0.0.0.0'],
      ['::', 'unspecified', '::'],
      // IPv4 hidden in IPv6
      ['::ffff:127.0.0.1', 'loopback', '::ffff:7f00:1'],
      ['[::ffff:7f00:1]', 'loopback', '::ffff:7f00:1'],
      ['::ffff:10.0.0.1', 'private', '::ffff:a00:1'],
      ['::7f00:1', 'loopback', '::7f00:1'],
      ['::ffff:0:7f00:1', 'loopback', '::ffff:0:7f00:1'],
      ['64:ff9b::10.0.0.1', 'private', '64:ff9b::a00:1'],
      ['2002:7f00:1::', 'loopback', '2002:7f00:1::'],
      ['2001::1', 'tunnel', '2001::1'],
      // private, CGNAT, link-local
      ['10.0.0.1', 'private', '10.0.0.1'],
      ['172.16.0.1', 'private', '172.16.0.1'],
      ['172.31.255.255', 'private', '172.31.255.255'],
      ['192.168.1.1', 'private', '192.168.1.1'],
      ['012.0.0.1', 'private', '10.0.0.1'],
      ['100.64.0.1', 'cgnat', '100.64.0.1'],
      ['100.127.255.255', 'cgnat', '100.127.255.255'],
      ['169.254.0.1', 'link_local', '169.254.0.1'],
      ['fe80::1', 'link_local', 'fe80::1'],
      ['fe80::1%eth0', 'link_local', 'fe80::1'],
      ['fc00::1', 'private', 'fc00::1'],
      ['fd12:3456::1', 'private', 'fd12:3456::1'],
      ['fec0::1', 'private', 'fec0::1'],
      // cloud metadata, also where it sits in public space, and in other spellings
      ['169.254.169.254', 'metadata', '169.254.169.254'],
      ['0xa9fea9fe', 'metadata', '169.254.169.254'],
      ['2852039166', 'metadata', '169.254.169.254'],
      ['::ffff:169.254.169.254', 'metadata', '::ffff:a9fe:a9fe'],
      ['64:ff9b::a9fe:a9fe', 'metadata', '64:ff9b::a9fe:a9fe'],
      ['169.254.170.2', 'metadata', '169.254.170.2'],
      ['100.100.100.200', 'metadata', '100.100.100.200'],
      ['168.63.129.16', 'metadata', '168.63.129.16'],
      ['fd00:ec2::254', 'metadata', 'fd00:ec2::254'],
      ['metadata.google.internal', 'metadata', 'metadata.google.internal'],
      // multicast, broadcast, reserved and documentation ranges
      ['224.0.0.1', 'multicast', '224.0.0.1'],
      ['239.255.255.250', 'multicast', '239.255.255.250'],
      ['ff02::1', 'multicast', 'ff02::1'],
      ['255.255.255.255', 'broadcast', '255.255.255.255'],
      ['192.0.2.1', 'reserved', '192.0.2.1'],
      ['198.18.0.1', 'reserved', '198.18.0.1'],
      ['240.0.0.1', 'reserved', '240.0.0.1'],
      ['2001:db8::1', 'reserved', '2001:db8::1'],
      ['100::1', 'reserved', '100::1'],
      ['4000::1', 'reserved', '4000::1'],
    ])('refuses %s (%s)', async (host, reason, normalized) => {
      const { guard: g, resolver } = guard();

      const error = await refusal(g.check(host));

      expect(error.refusal).toMatchObject({ guard: 'ssrf', host: normalized, reason });
      expect(error.code).toBe('net_refused');
      expect(error.message).toMatch(/^Refused: /);
      expect(resolver.lookups).toEqual([]);
    });

    it.each([
      ['8.8.8.8', '8.8.8.8'],
      ['134744072', '8.8.8.8'],
      ['172.32.0.1', '172.32.0.1'],
      ['100.128.0.1', '100.128.0.1'],
      ['169.255.0.1', '169.255.0.1'],
      ['2606:4700:4700::1111', '2606:4700:4700::1111'],
      ['[2606:4700:4700::1111]', '2606:4700:4700::1111'],
      ['::ffff:8.8.8.8', '::ffff:808:808'],
      ['64:ff9b::8.8.8.8', '64:ff9b::808:808'],
      ['2002:808:808::1', '2002:808:808::1'],
    ])('allows the public address %s', async (host, address) => {
      const target = await guard().guard.check(host);

      expect(target).toMatchObject({ host: address, literal: true, address, addresses: [address] });
    });

    it('resolves a public name once and returns the address to connect to', async () => {
      const { guard: g, resolver } = guard();

      expect(await g.check('Public.Example.')).toEqual({
        host: 'public.example',
        literal: false,
        address: '93.184.215.14',
        family: 4,
        addresses: ['93.184.215.14'],
      });
      expect(await g.check('dual.example')).toMatchObject({ address: '93.184.215.14', addresses: NAMES['dual.example'] });
      expect(resolver.lookups).toEqual(['public.example', 'dual.example']);
    });

    it.each([
      ['internal.example', 'private', '10.1.2.3'],
      ['ula.example', 'private', 'fd00::5'],
      ['mapped.example', 'loopback', '::ffff:127.0.0.1'],
      ['metadata-alias.example', 'metadata', '169.254.169.254'],
      ['rebind.example', 'loopback', '127.0.0.1'],
    ])('refuses the name %s, which resolves to a %s address, without telling the model which', async (host, reason, address) => {
      const error = await refusal(guard().guard.check(host));

      expect(error.message).toContain(`${host} resolves to`);
      expect(error.message).not.toContain(address);
      expect(error.refusal).toMatchObject({ host, address, reason, rule: 'default', resolved: NAMES[host as keyof typeof NAMES] });
    });

    it('says which IPv4 address an IPv6 form hides', async () => {
      const error = await refusal(guard().guard.check('::ffff:127.0.0.1'));

      expect(error.message).toBe(
        'Refused: ::ffff:7f00:1 is a loopback address (IPv4-mapped 127.0.0.1). Network tools on this server reach public addresses only; an administrator can open others with NET_ALLOW.',
      );
      expect(error.refusal.embedded).toEqual({ form: 'IPv4-mapped', ipv4: '127.0.0.1' });
    });

    it('adds the caller\'s context to the audit detail', async () => {
      const error = await refusal(guard().guard.checkUrl(new URL('http://10.0.0.1:8080/admin?token=secret'), { context: { hop: 2 } }));

      expect(error.refusal).toMatchObject({ url: 'http://10.0.0.1:8080/admin', hop: 2, reason: 'private' });
      expect(JSON.stringify(error.detail)).not.toContain('secret');
    });

    it('reports a name that does not resolve as a tool error, not a refusal', async () => {
      const error = await guard().guard.check('nx.example').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ToolError);
      expect(error).not.toBeInstanceOf(NetRefusedError);
      expect(error).toMatchObject({ message: 'Cannot resolve host nx.example', code: 'net_unresolved', detail: { host: 'nx.example', error: 'ENOTFOUND' } });
    });

    it.each(['http://example.com', 'example.com:80', 'user@example.com', 'a b', '', '1.2.3.4.5', 'example.com/path', '[::1', '::g'])(
      'rejects %p as no host at all',
      async (host) => {
        await expect(guard().guard.check(host)).rejects.toMatchObject({ code: 'net_invalid_host', message: `"${host}" is not a host name or IP address` });
      },
    );
  });

  describe('NET_ALLOW', () => {
    it('opens a loopback range in every spelling, IPv6-mapped forms included', async () => {
      const { guard: g } = guard({ NET_ALLOW: '127.0.0.0/8' });

      for (const host of ['127.0.0.1', '2130706433', '0x7f.1', '::ffff:127.0.0.1']) {
        await expect(g.check(host)).resolves.toMatchObject({ literal: true });
      }
      // localhost is 127.0.0.1 and ::1: every answer must pass.
      expect((await refusal(g.check('localhost'))).refusal).toMatchObject({ address: '::1', reason: 'loopback' });
      await expect(guard({ NET_ALLOW: '127.0.0.0/8,::1' }).guard.check('localhost')).resolves.toMatchObject({ address: '127.0.0.1', family: 4 });
    });

    it('opens link-local, but the metadata address only when listed exactly', async () => {
      const wide = guard({ NET_ALLOW: '169.254.0.0/16' }).guard;
      await expect(wide.check('169.254.1.1')).resolves.toBeDefined();
      expect((await refusal(wide.check('169.254.169.254'))).refusal).toMatchObject({ reason: 'metadata', rule: 'default' });

      const exact = guard({ NET_ALLOW: '169.254.169.254' }).guard;
      await expect(exact.check('169.254.169.254')).resolves.toMatchObject({ address: '169.254.169.254' });
    });

    it('never opens the unspecified address, which reaches this host, even with 0.0.0.0/0', async () => {
      const { guard: g } = guard({ NET_ALLOW: '0.0.0.0/0,::/0' });

      await expect(g.check('10.0.0.1')).resolves.toBeDefined();
      expect((await refusal(g.check('0.0.0.0'))).refusal).toMatchObject({ reason: 'unspecified', rule: 'always' });
      expect((await refusal(g.check('::'))).refusal).toMatchObject({ reason: 'unspecified' });
      expect((await refusal(g.check('169.254.169.254'))).refusal).toMatchObject({ reason: 'metadata' });
    });

    it('opens a host name (exact or *.domain) to whatever internal address it has, but not to metadata or 0.0.0.0', async () => {
      const { guard: g } = guard({ NET_ALLOW: 'wiki.corp.example' });
      await expect(g.check('wiki.corp.example')).resolves.toMatchObject({ address: '10.0.0.7' });
      expect((await refusal(g.check('a.corp.example'))).refusal).toMatchObject({ reason: 'private' });

      const wildcard = guard({ NET_ALLOW: '*.corp.example' }).guard;
      await expect(wildcard.check('a.corp.example')).resolves.toMatchObject({ address: '10.0.0.8' });
      expect((await refusal(wildcard.check('corp.example'))).refusal).toMatchObject({ reason: 'private' });
      expect((await refusal(wildcard.check('sneaky.corp.example'))).refusal).toMatchObject({ reason: 'metadata' });
      expect((await refusal(wildcard.check('zero.corp.example'))).refusal).toMatchObject({ reason: 'unspecified' });
    });
  });

  describe('NET_DENY', () => {
    it('refuses public ranges, in IPv6-mapped form too, and wins over NET_ALLOW', async () => {
      const { guard: g } = guard({ NET_DENY: '8.8.8.0/24,10.0.0.7', NET_ALLOW: '10.0.0.0/8,*.corp.example' });

      for (const host of ['8.8.8.8', '::ffff:8.8.8.8', '134744072']) {
        const error = await refusal(g.check(host));
        expect(error.refusal).toMatchObject({ reason: 'denied', rule: 'NET_DENY 8.8.8.0/24' });
        expect(error.message).toMatch(/blocked by this server's network policy\.$/);
      }
      expect((await refusal(g.check('wiki.corp.example'))).refusal).toMatchObject({ reason: 'denied', rule: 'NET_DENY 10.0.0.7/32' });
      await expect(g.check('10.0.0.8')).resolves.toBeDefined();
    });

    it('refuses denied names before looking them up', async () => {
      const { guard: g, resolver } = guard({ NET_DENY: '*.corp.example,public.example', NET_ALLOW: 'a.corp.example' });

      expect((await refusal(g.check('a.corp.example'))).refusal).toMatchObject({ reason: 'denied', rule: 'NET_DENY *.corp.example' });
      expect((await refusal(g.check('PUBLIC.example.'))).refusal).toMatchObject({ reason: 'denied', rule: 'NET_DENY public.example' });
      expect(resolver.lookups).toEqual([]);
    });
  });
});

describe('normalizeHost', () => {
  it.each([
    ['Example.COM', 'example.com', false],
    ['bücher.example', 'xn--bcher-kva.example', false],
    ['0x7f.1', '127.0.0.1', true],
    ['[2001:DB8::1]', '2001:db8::1', true],
    [' 8.8.8.8 ', '8.8.8.8', true],
  ])('%p → %p', (input, host, literal) => {
    expect(normalizeHost(input)).toEqual({ host, literal });
  });
});
