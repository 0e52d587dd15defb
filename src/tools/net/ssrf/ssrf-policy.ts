import ipaddr from 'ipaddr.js';
import type { NetRules } from '../../../config/net-rules';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Why the guard refused a target: the audit row's `detail.reason`. */
export type RefusalReason =
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved'
  | 'tunnel'
  | 'metadata'
  | 'denied';

/** What the policy says about one address. */
export interface AddressVerdict {
  allowed: boolean;
  /** Set when refused. */
  reason?: RefusalReason;
  /** Which rule decided: `default`, `NET_ALLOW 10.0.0.0/8`, `NET_DENY *.corp.example.com`, ... */
  rule: string;
  /** The IPv4 address inside an IPv6 form (mapped, compatible, NAT64, 6to4), when there is one. */
  embedded?: { form: string; ipv4: string };
}

/** For messages: what each reason means in words. */
export const REASON_LABELS: Record<RefusalReason, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  link_local: 'a link-local address',
  cgnat: 'a carrier-grade NAT (shared) address',
  multicast: 'a multicast address',
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved or special-purpose address',
  tunnel: 'a tunnel (Teredo) address',
  metadata: 'a cloud metadata address',
  denied: 'an address refused by NET_DENY',
};

/**
 * Cloud instance metadata services. Most are link-local anyway; the list
 * makes them refused even where a wider NET_ALLOW range covers them (only an
 * entry naming the exact address opens one), and catches those that sit in
 * public space (Azure's WireServer).
 */
export const METADATA_ADDRESSES: readonly string[] = [
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, ...
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  '168.63.129.16', // Azure WireServer
  '192.0.0.192', // Oracle Cloud
  'fd00:ec2::254', // AWS over IPv6
];

/** Names of metadata services, refused before any lookup. */
export const METADATA_HOSTS: readonly string[] = [
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
];

const IPV4_REASONS: Record<string, RefusalReason | undefined> = {
  unicast: undefined,
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link_local',
  loopback: 'loopback',
  carrierGradeNat: 'cgnat',
  private: 'private',
};

const IPV6_REASONS: Record<string, RefusalReason | undefined> = {
  unicast: undefined,
  unspecified: 'unspecified',
  multicast: 'multicast',
  linkLocal: 'link_local',
  loopback: 'loopback',
  uniqueLocal: 'private',
  deprecatedSiteLocal: 'private',
  teredo: 'tunnel',
};

const GLOBAL_UNICAST: [ipaddr.IPv6, number] = ipaddr.IPv6.parseCIDR('2000::/3');
const IPV4_COMPATIBLE: [ipaddr.IPv6, number] = ipaddr.IPv6.parseCIDR('::/96');

/** The IPv4 address an IPv6 address carries, in the forms a resolver or an attacker may use. */
function embeddedIpv4(address: ipaddr.IPv6): { form: string; ipv4: ipaddr.IPv4 } | undefined {
  const parts = address.parts;
  const last32 = () => new ipaddr.IPv4([parts[6] >> 8, parts[6] & 0xff, parts[7] >> 8, parts[7] & 0xff]);
  switch (address.range()) {
    case 'ipv4Mapped':
      return { form: 'IPv4-mapped', ipv4: address.toIPv4Address() };
    case 'rfc6145':
      return { form: 'IPv4-translated', ipv4: last32() };
    case 'rfc6052':
      return { form: 'NAT64', ipv4: last32() };
    case '6to4':
      return { form: '6to4', ipv4: new ipaddr.IPv4([parts[1] >> 8, parts[1] & 0xff, parts[2] >> 8, parts[2] & 0xff]) };
  }
  // ::a.b.c.d (deprecated "IPv4-compatible"); :: and ::1 are themselves.
  if (address.match(IPV4_COMPATIBLE) && (parts[6] !== 0 || parts[7] > 1)) return { form: 'IPv4-compatible', ipv4: last32() };
  return undefined;
}

const sameAddress = (a: Address, b: Address) => a.kind() === b.kind() && a.toNormalizedString() === b.toNormalizedString();

/** Host name patterns of NET_ALLOW / NET_DENY: exact, or `*.domain` for every name below it. */
function hostMatches(pattern: string, host: string): boolean {
  return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;
}

/**
 * The SSRF policy, without I/O: which host names and addresses the network
 * tools may reach. Public unicast addresses pass; loopback, private (RFC 1918,
 * fc00::/7), link-local, CGNAT, multicast, unspecified, broadcast, reserved
 * and documentation ranges, Teredo, anything outside 2000::/3 in IPv6, and
 * the cloud metadata services are refused. An IPv4 address hidden in an IPv6
 * form is judged as that IPv4 address. `NET_DENY` wins over everything;
 * `NET_ALLOW` opens ranges and host names, but a metadata address only when
 * an allow entry names it exactly, and the unspecified address (0.0.0.0, ::,
 * which reach this very host) never.
 */
export class SsrfPolicy {
  private readonly allowRanges: [Address, number][];
  private readonly denyRanges: [Address, number][];
  private readonly metadata = METADATA_ADDRESSES.map((a) => ipaddr.parse(a));

  constructor(
    private readonly allow: NetRules,
    private readonly deny: NetRules,
  ) {
    this.allowRanges = allow.cidrs.map((c) => ipaddr.parseCIDR(c));
    this.denyRanges = deny.cidrs.map((c) => ipaddr.parseCIDR(c));
  }

  /**
   * Judges a host name (lower case, without a trailing dot) before any
   * lookup: `refused` names a NET_DENY entry or a metadata service;
   * `allowed` names the NET_ALLOW entry that opens every address the name
   * resolves to; neither leaves the decision to the addresses.
   */
  checkName(host: string): { refused?: { reason: RefusalReason; rule: string }; allowedBy?: string } {
    const denied = this.deny.hosts.find((p) => hostMatches(p, host));
    if (denied) return { refused: { reason: 'denied', rule: `NET_DENY ${denied}` } };
    const allowed = this.allow.hosts.find((p) => hostMatches(p, host));
    if (METADATA_HOSTS.includes(host) && allowed !== host) return { refused: { reason: 'metadata', rule: 'default' } };
    return allowed ? { allowedBy: `NET_ALLOW ${allowed}` } : {};
  }

  /**
   * Judges one address (any form `ipaddr.js` parses). `allowedBy` is the
   * NET_ALLOW host entry that already opened the name it came from.
   */
  checkAddress(text: string, allowedBy?: string): AddressVerdict {
    const parsed = ipaddr.parse(text);
    const address = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).zoneId ? ipaddr.parse(text.replace(/%.*$/, '')) : parsed;
    const found = address.kind() === 'ipv6' ? embeddedIpv4(address as ipaddr.IPv6) : undefined;
    const embedded = found && { form: found.form, ipv4: found.ipv4.toString() };
    const forms: Address[] = found ? [address, found.ipv4] : [address];
    const withEmbedded = (v: Omit<AddressVerdict, 'embedded'>): AddressVerdict => (embedded ? { ...v, embedded } : v);

    const denied = this.denyRanges.find((range) => forms.some((a) => a.kind() === range[0].kind() && a.match(range)));
    if (denied) return withEmbedded({ allowed: false, reason: 'denied', rule: `NET_DENY ${rangeText(denied)}` });

    const metadata = forms.some((a) => this.metadata.some((m) => sameAddress(a, m)));
    if (metadata) {
      const exact = this.allowRanges.find(([base, bits]) => forms.some((a) => sameAddress(a, base) && bits === (a.kind() === 'ipv4' ? 32 : 128)));
      return exact
        ? withEmbedded({ allowed: true, rule: `NET_ALLOW ${rangeText(exact)}` })
        : withEmbedded({ allowed: false, reason: 'metadata', rule: 'default' });
    }
    const reason = found ? classifyIpv4(found.ipv4) : address.kind() === 'ipv4' ? classifyIpv4(address as ipaddr.IPv4) : classifyIpv6(address as ipaddr.IPv6);
    // Connecting to 0.0.0.0 or :: reaches this very host: no rule opens it.
    if (reason === 'unspecified') return withEmbedded({ allowed: false, reason, rule: 'always' });
    if (allowedBy) return withEmbedded({ allowed: true, rule: allowedBy });
    const opened = this.allowRanges.find((range) => forms.some((a) => a.kind() === range[0].kind() && a.match(range)));
    if (opened) return withEmbedded({ allowed: true, rule: `NET_ALLOW ${rangeText(opened)}` });
    return withEmbedded(reason ? { allowed: false, reason, rule: 'default' } : { allowed: true, rule: 'default' });
  }
}

function classifyIpv4(address: ipaddr.IPv4): RefusalReason | undefined {
  const range = address.range();
  return range in IPV4_REASONS ? IPV4_REASONS[range] : 'reserved';
}

function classifyIpv6(address: ipaddr.IPv6): RefusalReason | undefined {
  const range = address.range();
  if (range in IPV6_REASONS) {
    const reason = IPV6_REASONS[range];
    if (reason || !address.match(GLOBAL_UNICAST)) return reason ?? 'reserved';
    return undefined;
  }
  return 'reserved';
}

function rangeText([base, bits]: [Address, number]): string {
  return `${base.toString()}/${bits}`;
}
