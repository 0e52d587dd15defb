import { createHash } from 'node:crypto';

/** The row fields a chain hash covers, in a fixed order. */
export interface ChainedRow {
  eventId: string;
  occurredAt: Date;
  kind: string;
  principalId: string | null;
  authMethod: string | null;
  clientName: string | null;
  clientVersion: string | null;
  clientIp: string | null;
  userAgent: string | null;
  sessionId: string | null;
  requestId: string | null;
  era: string | null;
  protocolVersion: string | null;
  tool: string | null;
  namespace: string | null;
  arguments: unknown;
  outcome: string;
  errorCode: string | null;
  errorMessage: string | null;
  durationMs: number | null;
  resultBytes: number | null;
  detail: Record<string, unknown> | null;
  instanceId: string | null;
  seq: string | null;
  prevHash: string | null;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level: the same value always gives the same text (jsonb does not keep key order). */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 over the row's canonical content, which includes the previous row's hash. */
export function chainHash(row: ChainedRow): string {
  const content = [
    row.eventId,
    row.occurredAt.toISOString(),
    row.kind,
    row.principalId,
    row.authMethod,
    row.clientName,
    row.clientVersion,
    row.clientIp,
    row.userAgent,
    row.sessionId,
    row.requestId,
    row.era,
    row.protocolVersion,
    row.tool,
    row.namespace,
    row.arguments ?? null,
    row.outcome,
    row.errorCode,
    row.errorMessage,
    row.durationMs,
    row.resultBytes,
    row.detail,
    row.instanceId,
    row.seq === null ? null : String(row.seq),
    row.prevHash,
  ];
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
