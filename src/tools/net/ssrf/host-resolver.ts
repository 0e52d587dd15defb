import { Injectable } from '@nestjs/common';
import { lookup } from 'node:dns/promises';

/**
 * Turns a host name into addresses. The SSRF guard asks it once per target
 * and connects only to what it answered, so nothing resolves the name again
 * between the check and the connection. Tests inject their own to make any
 * name resolve to any address.
 */
export interface HostResolver {
  /** Every address of `host` (IPv4 and IPv6, as text); rejects when the name does not resolve. */
  resolve(host: string, signal?: AbortSignal): Promise<string[]>;
}

export const HOST_RESOLVER = Symbol('HOST_RESOLVER');

const LOOKUP_TIMEOUT_MS = 5_000;

/** The operating system's resolver (`getaddrinfo`: /etc/hosts, then DNS), as every other program on the host sees it. */
@Injectable()
export class SystemHostResolver implements HostResolver {
  async resolve(host: string, signal?: AbortSignal): Promise<string[]> {
    const timeout = AbortSignal.timeout(LOOKUP_TIMEOUT_MS);
    const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
    // getaddrinfo cannot be cancelled: stop waiting for it instead.
    const aborted = new Promise<never>((_, reject) =>
      stop.addEventListener('abort', () => reject(Object.assign(new Error(`lookup of ${host} timed out`), { code: 'ETIMEOUT' })), { once: true }),
    );
    aborted.catch(() => undefined);
    const answers = await Promise.race([lookup(host, { all: true, verbatim: true }), aborted]);
    return answers.map((a) => a.address);
  }
}
