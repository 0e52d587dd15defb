import type { DataSource, SelectQueryBuilder } from 'typeorm';
import { z } from 'zod';
import { AuditEvent } from './audit-event.entity';

/** Filters of the audit API and `portico audit export`; every one optional. */
export const auditFilterSchema = z.object({
  from: z.iso.datetime({ offset: true }).optional().describe('occurred at or after (ISO 8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('occurred before (ISO 8601)'),
  principal: z.string().max(256).optional(),
  tool: z.string().max(128).optional(),
  kind: z.string().max(64).optional(),
  outcome: z.string().max(64).optional(),
  session: z.string().max(128).optional(),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

/** The columns an export carries, in order (the chain fields included, so an export can be verified). */
export const EXPORT_COLUMNS = [
  'id', 'eventId', 'occurredAt', 'kind', 'outcome', 'principalId', 'authMethod', 'clientName', 'clientVersion',
  'clientIp', 'userAgent', 'sessionId', 'requestId', 'era', 'protocolVersion', 'tool', 'namespace', 'arguments',
  'errorCode', 'errorMessage', 'durationMs', 'resultBytes', 'detail', 'instanceId', 'seq', 'prevHash', 'hash',
] as const satisfies readonly (keyof AuditEvent)[];

function filtered(dataSource: DataSource, f: AuditFilter): SelectQueryBuilder<AuditEvent> {
  const q = dataSource.getRepository(AuditEvent).createQueryBuilder('e');
  if (f.from) q.andWhere('e.occurred_at >= :from', { from: new Date(f.from) });
  if (f.to) q.andWhere('e.occurred_at < :to', { to: new Date(f.to) });
  if (f.principal) q.andWhere('e.principal_id = :principal', { principal: f.principal });
  if (f.tool) q.andWhere('e.tool = :tool', { tool: f.tool });
  if (f.kind) q.andWhere('e.kind = :kind', { kind: f.kind });
  if (f.outcome) q.andWhere('e.outcome = :outcome', { outcome: f.outcome });
  if (f.session) q.andWhere('e.session_id = :session', { session: f.session });
  return q;
}

/** One page, oldest first; `cursor` is the opaque value from the previous page. */
export async function findAuditEvents(
  dataSource: DataSource,
  filter: AuditFilter,
  options: { cursor?: string; limit: number },
): Promise<{ events: AuditEvent[]; nextCursor?: string }> {
  const q = filtered(dataSource, filter).orderBy('e.id', 'ASC').take(options.limit + 1);
  if (options.cursor !== undefined) q.andWhere('e.id > :after', { after: decodeCursor(options.cursor) });
  // bigint columns arrive as strings from pg and as numbers from PGlite: one shape for clients.
  const rows = (await q.getMany()).map((e) => Object.assign(e, { id: String(e.id), seq: e.seq === null ? null : String(e.seq) }));
  const more = rows.length > options.limit;
  const events = rows.slice(0, options.limit);
  return { events, nextCursor: more ? encodeCursor(events[events.length - 1].id) : undefined };
}

/** Every matching row, oldest first, in chunks: for exports of any size without holding them in memory. */
export async function* streamAuditEvents(dataSource: DataSource, filter: AuditFilter, chunk = 1000): AsyncGenerator<AuditEvent> {
  let cursor: string | undefined;
  do {
    const page = await findAuditEvents(dataSource, filter, { cursor, limit: chunk });
    yield* page.events;
    cursor = page.nextCursor;
  } while (cursor);
}

export class InvalidCursorError extends Error {}

function encodeCursor(id: string): string {
  return Buffer.from(`audit:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const m = /^audit:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError('Invalid cursor');
  return m[1];
}

export function toNdjson(event: AuditEvent): string {
  return JSON.stringify(Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, event[c]]))) + '\n';
}

export const CSV_HEADER = EXPORT_COLUMNS.join(',') + '\n';

/** RFC 4180 row; objects as JSON; cells that would start a formula are prefixed with ' (CSV injection). */
export function toCsv(event: AuditEvent): string {
  return (
    EXPORT_COLUMNS.map((c) => {
      const v = event[c];
      let s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
      if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    }).join(',') + '\n'
  );
}
