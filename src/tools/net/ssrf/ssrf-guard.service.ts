import { Inject, Injectable } from '@nestjs/common';
import { ToolError } from '@portico/mcp-core';
import ipaddr from 'ipaddr.js';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config';
import { HOST_RESOLVER, type HostResolver } from './host-resolver';
import { NetRefusedError, type Refusal, type RefusalFacts } from './net-refused.error';
import { type AddressVerdict, REASON_LABELS, SsrfPolicy } from './ssrf-policy';

/** A target the guard let through: connect to `address`, never to `host` (that would resolve it again). */
export interface GuardedTarget {
  /** As normalized: lower case, IDN in punycode, IPv4 dotted (`0x7f.1` → `127.0.0.1`), IPv6 without brackets. */
  host: string;
  /** True when `host` is an address, not a name. */
  literal: boolean;
  /** The address to connect to: the first the name resolved to. */
  address: string;
  family: 4 | 6;
  /** Every address the name resolved to (all allowed). */
  addresses: string[];
}

/** Extra facts for the audit row of a refusal (the redirect hop, the port, the URL without query). */
export type RefusalContext = Record<string, string | number | boolean>;

const LOOPBACK_ANSWERS = ['127.0.0.1', '::1'];
const HINT = 'Network tools on this server reach public addresses only; an administrator can open others with NET_ALLOW.';

/**
 * Normalizes a host as a caller typed it, the way a URL parser (and so
 * `getaddrinfo`) would read it: `0x7f.1`, `2130706433` and `0177.0.0.1` are
 * all 127.0.0.1. Returns undefined for anything that is not a host name or
 * an IP address (a URL, a port, white space, a user name).
 */
export function normalizeHost(input: string): { host: string; literal: boolean } | undefined {
  const text = input.trim();
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (bare.includes(':')) {
    const withoutZone = bare.replace(/%[A-Za-z0-9_.-]+$/, '');
    return ipaddr.IPv6.isValid(withoutZone) ? { host: ipaddr.IPv6.parse(withoutZone).toString(), literal: true } : undefined;
  }
  if (!/^[\p{L}\p{N}._-]+$/u.test(bare)) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${bare}/`).hostname;
  } catch {
    return undefined;
  }
  const host = hostname.replace(/\.$/, '');
  if (!host) return undefined;
  return { host, literal: ipaddr.IPv4.isValidFourPartDecimal(host) };
}

/**
 * The SSRF guard: every outbound connection of the network tools goes
 * through it, and other modules may use it too (import `SsrfModule`).
 * {@link check} resolves a name once, judges every address it resolved to
 * with the {@link SsrfPolicy} (configured by NET_ALLOW / NET_DENY), and
 * returns the address to connect to, so the name is never resolved again
 * between check and connect (no DNS rebinding). A name with any refused
 * answer is refused as a whole.
 *
 * A refusal is a {@link NetRefusedError}: a tool error for the model, and,
 * thrown out of a tool handler, an audit row with `error_code` `net_refused`
 * and the facts in `detail`.
 */
@Injectable()
export class SsrfGuard {
  private readonly policy: SsrfPolicy;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(HOST_RESOLVER) private readonly resolver: HostResolver,
  ) {
    this.policy = new SsrfPolicy(config.net.allow, config.net.deny);
  }

  /** Checks a host name or address (any spelling); resolves names once. Throws a ToolError for a malformed or unknown host. */
  async check(input: string, options: { signal?: AbortSignal; context?: RefusalContext } = {}): Promise<GuardedTarget> {
    const normalized = normalizeHost(input);
    if (!normalized) throw new ToolError(`"${input}" is not a host name or IP address`, { code: 'net_invalid_host' });
    const { host, literal } = normalized;
    const context = options.context ?? {};

    if (literal) {
      const verdict = this.policy.checkAddress(host);
      if (!verdict.allowed) throw this.refusal(`${host} is ${this.label(verdict)}`, { host, address: host, ...fromVerdict(verdict), ...context });
      return { host, literal, address: host, family: ipaddr.parse(host).kind() === 'ipv4' ? 4 : 6, addresses: [host] };
    }

    const byName = this.policy.checkName(host);
    if (byName.refused) {
      const message = byName.refused.reason === 'denied' ? `${host} is blocked by this server's network policy` : `${host} is ${REASON_LABELS[byName.refused.reason]}`;
      throw this.refusal(message, { host, ...byName.refused, ...context });
    }
    const addresses = await this.resolve(host, options.signal);
    for (const address of addresses) {
      const verdict = this.policy.checkAddress(address, byName.allowedBy);
      if (!verdict.allowed) {
        // The message does not say which internal address the name has: that stays in the audit log.
        throw this.refusal(`${host} resolves to ${this.label(verdict)}`, { host, address, resolved: addresses, ...fromVerdict(verdict), ...context });
      }
    }
    const address = addresses[0];
    return { host, literal, address, family: ipaddr.parse(address).kind() === 'ipv4' ? 4 : 6, addresses };
  }

  /** Checks the host of an http(s) URL; the audit detail names the URL without its query. */
  checkUrl(url: URL, options: { signal?: AbortSignal; context?: RefusalContext } = {}): Promise<GuardedTarget> {
    return this.check(url.hostname, { ...options, context: { url: `${url.origin}${url.pathname}`, ...options.context } });
  }

  private async resolve(host: string, signal?: AbortSignal): Promise<string[]> {
    // RFC 6761: localhost and every name below it are loopback, whatever a DNS server says.
    if (host === 'localhost' || host.endsWith('.localhost')) return LOOPBACK_ANSWERS;
    let answers: string[];
    try {
      answers = await this.resolver.resolve(host, signal);
    } catch (e) {
      throw new ToolError(`Cannot resolve host ${host}`, { code: 'net_unresolved', detail: { host, error: (e as NodeJS.ErrnoException).code ?? 'error' } });
    }
    const valid = answers.filter((a) => ipaddr.isValid(a));
    if (!valid.length) throw new ToolError(`Cannot resolve host ${host}`, { code: 'net_unresolved', detail: { host } });
    return valid;
  }

  private label(verdict: AddressVerdict): string {
    if (verdict.reason === 'denied') return 'blocked by this server\'s network policy';
    const label = REASON_LABELS[verdict.reason!];
    return verdict.embedded ? `${label} (${verdict.embedded.form} ${verdict.embedded.ipv4})` : label;
  }

  private refusal(what: string, refusal: RefusalFacts): NetRefusedError {
    const hint = refusal.reason === 'denied' ? '' : ` ${HINT}`;
    return new NetRefusedError(`Refused: ${what}.${hint}`, { guard: 'ssrf', ...refusal });
  }
}

function fromVerdict(verdict: AddressVerdict): Pick<Refusal, 'reason' | 'rule' | 'embedded'> {
  return { reason: verdict.reason!, rule: verdict.rule, ...(verdict.embedded && { embedded: verdict.embedded }) };
}
