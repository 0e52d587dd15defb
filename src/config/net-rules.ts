import ipaddr from 'ipaddr.js';

/**
 * One of `NET_ALLOW` / `NET_DENY`, parsed: address ranges in CIDR form
 * (a bare address becomes a /32 or /128) and host names, exact
 * (`wiki.example.com`) or every name below a domain (`*.example.com`).
 */
export interface NetRules {
  /** Normalized, e.g. `10.0.0.0/8`, `127.0.0.1/32`, `fd00::/8`. */
  cidrs: string[];
  /** Lower case, without a trailing dot, e.g. `wiki.example.com`, `*.corp.example.com`. */
  hosts: string[];
}

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_PATTERN = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

/** Parses comma-separated `NET_ALLOW`-style entries; pushes a problem for each entry that is neither an address range nor a host name. */
export function parseNetRules(entries: string[], key: string, problems: { key: string; message: string }[]): NetRules {
  const rules: NetRules = { cidrs: [], hosts: [] };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    const cidr = parseCidr(entry);
    if (cidr) {
      rules.cidrs.push(cidr);
      continue;
    }
    const host = entry.replace(/\.$/, '');
    // A last label that is a number makes URL parsers read the name as an IPv4 address (`0x7f.1`): not a host name.
    if (HOST_PATTERN.test(host) && !/(^|\.)(\d+|0x[0-9a-f]*)$/.test(host)) {
      rules.hosts.push(host);
      continue;
    }
    problems.push({
      key,
      message: `${JSON.stringify(raw)} is neither an address or CIDR range (10.0.0.0/8, 2001:db8::/32) nor a host name (wiki.example.com, *.example.com)`,
    });
  }
  return rules;
}

/** `a.b.c.d`, `a.b.c.d/n`, `x::y`, `x::y/n` in canonical form; undefined for anything else (only the four-part dotted IPv4 form is accepted here). */
function parseCidr(entry: string): string | undefined {
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length) return undefined;
  const isV4 = ipaddr.IPv4.isValidFourPartDecimal(address);
  if (!isV4 && !(address.includes(':') && ipaddr.IPv6.isValid(address))) return undefined;
  const parsed = ipaddr.parse(address);
  const max = parsed.kind() === 'ipv4' ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return undefined;
  return `${parsed.toString()}/${prefix}`;
}
