import { ToolError } from '@portico/mcp-core';
import type { RefusalReason } from './ssrf-policy';

/** What the audit row of a refusal records in `detail` (never shown to the model). */
export type Refusal = RefusalFacts & { guard: 'ssrf' };

/** The facts of a refusal. */
export interface RefusalFacts {
  /** The host as the caller named it, normalized. */
  host: string;
  /** The address refused (for a name: one it resolved to). */
  address?: string;
  /** Every address the name resolved to. */
  resolved?: string[];
  reason: RefusalReason;
  /** The rule that decided: `default`, `always`, `NET_DENY 10.0.0.0/8`, ... */
  rule: string;
  /** An IPv4 address found inside an IPv6 form. */
  embedded?: { form: string; ipv4: string };
  /** What the calling code adds: the redirect hop, the URL without its query, the port... */
  [context: string]: unknown;
}

/**
 * The SSRF guard refused a target. A {@link ToolError}: the model reads a
 * message that does not disclose internal addresses a name resolved to; the
 * tool call's audit row gets `error_code` `net_refused` and the refusal as
 * `detail`. Code that uses the guard outside a tool call and catches this
 * must record the refusal itself (`AuditService.record`).
 */
export class NetRefusedError extends ToolError {
  constructor(
    message: string,
    readonly refusal: Refusal,
  ) {
    super(message, { code: 'net_refused', detail: { ...refusal } });
    this.name = 'NetRefusedError';
  }
}
