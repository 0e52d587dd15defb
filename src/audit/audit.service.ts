import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { inputJsonSchema, type ToolCallEvent, type ToolCallListener, type ToolInput, ToolInvoker } from '@portico/mcp-core';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { escapeLiteral } from 'pg';
import type { Repository } from 'typeorm';
import { requestContext } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AuditEvent } from './audit-event.entity';
import type { AuditEventInput } from './audit-event.input';
import { type ChainedRow, chainHash, GENESIS_HASH } from './audit.chain';
import { AuditJournal } from './audit.journal';
import { redactArguments } from './redaction';

const BATCH_SIZE = 200;
/** Past this many queued events, new ones go straight to the journal. */
const MAX_PENDING = 10_000;
/** Rows kept in memory while neither the database nor the journal takes them; past it the oldest are dropped (a gap in the chain). */
const MAX_HELD = 10_000;
const RETRY_MAX_MS = 5_000;
/**
 * An INSERT not done by then counts as failed: its rows go to the journal, so
 * a database that hangs (rather than refuses) holds tool answers at most this
 * long. Should it finish after all, the replay ignores the rows it stored.
 */
const INSERT_TIMEOUT_MS = 5_000;

/** One INSERT of the writer, for metrics: how many rows, how long, whether the database took them. */
export interface AuditWrite {
  rows: number;
  durationMs: number;
  ok: boolean;
}

/** A row as the writer chains it, before the database gives it an id. */
export type AuditRow = ChainedRow & { hash: string };

type Pending = Omit<ChainedRow, 'instanceId' | 'seq' | 'prevHash'>;

/** Row fields in INSERT order, and their columns. */
export const INSERT_FIELDS = [
  'eventId', 'occurredAt', 'kind', 'principalId', 'authMethod', 'clientName', 'clientVersion', 'clientIp', 'userAgent',
  'sessionId', 'requestId', 'era', 'protocolVersion', 'tool', 'namespace', 'arguments', 'outcome', 'errorCode',
  'errorMessage', 'durationMs', 'resultBytes', 'detail', 'instanceId', 'seq', 'prevHash', 'hash',
] as const satisfies readonly (keyof AuditRow)[];
/** The jsonb columns: their values go in as JSON text. */
const JSON_FIELDS = new Set<string>(['arguments', 'detail']);
const INSERT_COLUMNS = INSERT_FIELDS.map((f) => `"${f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}"`).join(',');

function revive(raw: Record<string, unknown>): AuditRow {
  return { ...(raw as unknown as AuditRow), occurredAt: new Date(raw.occurredAt as string) };
}

/**
 * Records audit events. A single writer chains rows (hash over content and
 * the previous row, one chain per process start) and inserts them with group
 * commit: it writes as soon as it is idle, and whatever queues while an
 * INSERT is in flight goes in the next one, so batches grow with the load and
 * a row waits about one INSERT. When the database is unreachable, rows go to
 * an fsync'd journal in the data directory, replayed in order once it is
 * back; inserts ignore an event id already present, so replays never
 * duplicate.
 *
 * Tool calls are durable before they are answered: {@link onToolCall}
 * resolves once the row is committed or fsync'd into the journal, and the
 * invoker waits for it. Other events ({@link record}) are fire-and-forget.
 * When the database is away and the journal cannot be written either (disk
 * full, read-only), rows are held in memory (up to a bound; past it the
 * oldest are dropped, which leaves a gap the chain verifier reports),
 * readiness fails, and they go to the journal or the database as soon as
 * either takes them.
 */
@Injectable()
export class AuditService implements ToolCallListener, OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Audit');
  private readonly journal: AuditJournal<AuditRow>;
  /** This writer's chain: one per process start. */
  readonly instanceId = randomUUID();
  private seq = 0;
  private head = GENESIS_HASH;
  private pending: Pending[] = [];
  /** Resolvers of the durable events queued in `pending`: they settle when the pass that takes them is done. */
  private waiters: (() => void)[] = [];
  /** Chained rows that neither the database nor the journal took, oldest first (see {@link MAX_HELD}). */
  private held: AuditRow[] = [];
  private journalFailures = 0;
  private dropped = 0;
  private timer?: NodeJS.Timeout;
  private timerDue = 0;
  private kicked = false;
  private flushing?: Promise<void>;
  private failures = 0;
  /** While the database is away: when to try it again (until then, flushes spill to the journal). */
  private retryAt = 0;
  private readonly schemas = new WeakMap<ToolInput, Record<string, unknown>>();
  private readonly writeListeners: ((write: AuditWrite) => void)[] = [];

  constructor(
    @InjectRepository(AuditEvent) private readonly repository: Repository<AuditEvent>,
    private readonly invoker: ToolInvoker,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.journal = new AuditJournal(join(config.dataDir, 'audit'));
  }

  onModuleInit(): void {
    this.invoker.addListener(this);
    // A journal left by an earlier run (database down, then a crash) is replayed first.
    if (!this.journal.empty) this.schedule(0);
  }

  /** Queues an event. Never throws, never waits. */
  record(input: AuditEventInput): void {
    this.enqueue(input);
  }

  /**
   * Queues an event and resolves once it is durable: committed to the
   * database, or fsync'd into the journal while the database is away. Also
   * resolves, without that guarantee, when neither takes it (then it is held
   * in memory and readiness fails). Never rejects.
   */
  recordDurably(input: AuditEventInput): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.enqueue(input);
    });
  }

  private enqueue(input: AuditEventInput): void {
    const ctx = requestContext.getStore();
    this.pending.push(withoutNul({
      eventId: randomUUID(),
      occurredAt: input.occurredAt ?? new Date(),
      kind: input.kind,
      principalId: input.principalId ?? ctx?.principalId ?? null,
      authMethod: input.authMethod ?? null,
      clientName: input.clientName ?? null,
      clientVersion: input.clientVersion ?? null,
      clientIp: input.clientIp ?? ctx?.clientIp ?? null,
      userAgent: input.userAgent ?? ctx?.userAgent ?? null,
      sessionId: input.sessionId ?? ctx?.sessionId ?? null,
      requestId: input.requestId ?? ctx?.requestId ?? null,
      era: input.era ?? null,
      protocolVersion: input.protocolVersion ?? null,
      tool: input.tool ?? null,
      namespace: input.namespace ?? null,
      arguments: input.arguments ?? null,
      outcome: input.outcome,
      errorCode: input.errorCode ?? null,
      errorMessage: input.errorMessage ?? null,
      durationMs: input.durationMs ?? null,
      resultBytes: input.resultBytes ?? null,
      detail: input.detail ?? null,
    }));
    if (this.pending.length >= MAX_PENDING) {
      // Chain what is queued and put it on disk now.
      this.spill(this.chain(this.pending.splice(0)));
      this.logger.warn({ journal: this.journal.file }, 'audit queue full: events journaled to disk');
    }
    this.kick();
  }

  /** The invoker answers the call once this resolves: its row is durable first. */
  onToolCall(event: ToolCallEvent): Promise<void> {
    return this.recordDurably({
      kind: 'tool_call',
      occurredAt: event.startedAt,
      principalId: event.principal.id,
      authMethod: event.principal.authMethod,
      clientName: event.client?.name,
      clientVersion: event.client?.version,
      sessionId: event.sessionId,
      requestId: event.requestId,
      era: event.era,
      protocolVersion: event.protocolVersion,
      tool: event.tool,
      namespace: event.namespace,
      arguments: redactArguments(event.arguments, event.input && this.schemaOf(event.input)),
      outcome: event.outcome,
      errorCode: event.errorCode,
      errorMessage: event.errorMessage,
      durationMs: event.durationMs,
      resultBytes: event.resultBytes,
      detail: event.detail,
    });
  }

  /**
   * Events not yet in the database: queued for the writer, journaled on disk
   * (`journalBytes` of them), or `held` in memory because neither the
   * database nor the journal takes them; `dropped`: held events lost past the bound.
   */
  get backlog(): { queued: number; held: number; dropped: number; journaled: boolean; journalBytes: number } {
    const journalBytes = this.journal.bytes;
    return { queued: this.pending.length, held: this.held.length, dropped: this.dropped, journaled: journalBytes > 0, journalBytes };
  }

  /** Hears of every INSERT the writer tries (metrics). The listener must not throw or block. */
  onWrite(listener: (write: AuditWrite) => void): void {
    this.writeListeners.push(listener);
  }

  /**
   * Puts everything queued in the journal now, synchronously (fsync'd): for a
   * process about to exit without a flush (a second SIGTERM, a shutdown past
   * its deadline). The next start replays it.
   */
  spillToJournal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.spill(this.chain(this.pending.splice(0)));
  }

  /** Writes everything queued, held and journaled; resolves when done or when the database refuses. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    // Every waiter's event is queued for this pass or already spilled (the queue bound): the pass covers them all.
    const waiters = this.waiters.splice(0);
    if (!this.pending.length && !this.held.length && this.journal.empty) return waiters.forEach((resolve) => resolve());
    this.flushing = this.write().finally(() => {
      this.flushing = undefined;
      for (const resolve of waiters) resolve();
      // Group commit: what queued meanwhile goes next, at once (a pass may also have taken
      // events whose waiters came after it started: the next pass settles them).
      if (this.pending.length || this.waiters.length) this.kick();
    });
    await this.flushing;
  }

  /** Flushes while the database is still open (TypeORM closes it in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Whatever the database did not take (or arrived after the flush) is on disk for the next start. */
  onApplicationShutdown(): void {
    this.spillToJournal();
  }

  private schemaOf(input: ToolInput): Record<string, unknown> {
    let schema = this.schemas.get(input);
    if (!schema) this.schemas.set(input, (schema = inputJsonSchema(input)));
    return schema;
  }

  /** Chains queued events into rows, in place: they were taken off the queue (two object spreads per row cost more than the hash). */
  private chain(events: Pending[]): AuditRow[] {
    return events.map((event) => {
      const row: AuditRow = Object.assign(event, { instanceId: this.instanceId, seq: String(++this.seq), prevHash: this.head, hash: '' });
      row.hash = this.head = chainHash(row);
      return row;
    });
  }

  /** Starts a pass soon (after the events of this tick are queued), unless one runs: it starts the next when done. */
  private kick(): void {
    if (this.flushing || this.kicked) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      void this.flush();
    });
  }

  /**
   * Puts rows in the journal (fsync'd), after those held in memory. When the
   * journal cannot be written they are held instead, loudly: readiness
   * fails until the journal or the database takes them.
   */
  private spill(rows: AuditRow[]): void {
    const all = this.held.length ? [...this.held, ...rows] : rows;
    if (!all.length) return;
    try {
      this.journal.append(all);
      this.held = [];
      if (this.journalFailures) this.logger.warn({ journal: this.journal.file, failures: this.journalFailures }, 'audit journal writable again');
      this.journalFailures = 0;
    } catch (e) {
      this.held = all;
      if (this.journalFailures++ % 20 === 0) {
        this.logger.error(
          { err: e, journal: this.journal.file, held: all.length },
          'AUDIT JOURNAL WRITE FAILED while the database is away: audit events are held in memory only; readiness fails until the disk or the database takes them',
        );
      }
      if (this.held.length > MAX_HELD) {
        const lost = this.held.splice(0, this.held.length - MAX_HELD);
        this.dropped += lost.length;
        this.logger.error({ dropped: lost.length, total: this.dropped, firstSeq: lost[0].seq, lastSeq: lost[lost.length - 1].seq }, 'AUDIT EVENTS DROPPED: in-memory bound reached');
      }
    }
  }

  private schedule(delay: number): void {
    if (this.timer) {
      // An earlier, sooner pass covers this one; a later one (a retry) is brought forward.
      if (this.timerDue <= Date.now() + delay) return;
      clearTimeout(this.timer);
    }
    this.timerDue = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
    this.timer.unref();
  }

  /** One pass of the single writer: the journal first (order), then rows held in memory, then the queue. */
  private async write(): Promise<void> {
    if (this.failures && Date.now() < this.retryAt) {
      // The database is away: what arrives goes on disk now (the calls waiting for it are answered after the fsync).
      this.spill(this.chain(this.pending.splice(0)));
      this.schedule(Math.max(0, this.retryAt - Date.now()));
      return;
    }
    try {
      if (!this.journal.empty) await this.drainJournal();
      while (this.held.length) {
        await this.insert(this.held.slice(0, BATCH_SIZE), true);
        this.held.splice(0, BATCH_SIZE);
      }
      while (this.pending.length) {
        const batch = this.chain(this.pending.splice(0, BATCH_SIZE));
        try {
          await this.insert(batch, false);
        } catch (e) {
          this.spill(batch);
          throw e;
        }
      }
      if (this.failures) this.logger.log({ failures: this.failures }, 'audit writes recovered; journal replayed');
      this.failures = 0;
    } catch (e) {
      this.failures++;
      const delay = Math.min(RETRY_MAX_MS, 100 * 2 ** this.failures);
      this.retryAt = Date.now() + delay;
      if (this.failures === 1 || this.failures % 20 === 0) {
        this.logger.warn({ err: e, journal: this.journal.file, retryInMs: delay }, 'audit database unavailable: events go to the journal');
      }
      // While the journal holds rows, new ones follow them there, so order is kept.
      this.spill(this.chain(this.pending.splice(0)));
      this.schedule(delay);
    }
  }

  private async drainJournal(): Promise<void> {
    const rows = this.journal.read(revive);
    let done = 0;
    try {
      for (; done < rows.length; done += BATCH_SIZE) await this.insert(rows.slice(done, done + BATCH_SIZE), true);
    } finally {
      if (done) this.journal.drop(Math.min(done, rows.length), revive);
    }
  }

  /** {@link insertRows}, timed for the write listeners (metrics). */
  private async insert(rows: AuditRow[], replay: boolean): Promise<void> {
    if (!rows.length) return;
    const started = performance.now();
    let ok = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.insertRows(rows, replay),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`audit INSERT did not finish within ${INSERT_TIMEOUT_MS} ms`)), INSERT_TIMEOUT_MS);
        }),
      ]);
      ok = true;
    } finally {
      clearTimeout(timer);
      const write: AuditWrite = { rows: rows.length, durationMs: performance.now() - started, ok };
      for (const listener of this.writeListeners) listener(write);
    }
  }

  /**
   * One multi-row INSERT. A `replay` (rows from the journal or held in memory:
   * an earlier INSERT of theirs may have committed after all) ignores event ids
   * already stored; rows fresh from the queue were never sent, so their INSERT
   * skips that check (ON CONFLICT's speculative insertion costs the embedded
   * database ~10 of ~85 µs of CPU per row at 8 rows an INSERT); should one
   * collide all the same, the unique index refuses the INSERT and its rows are
   * journaled and replayed, that is, inserted with the check. Plain
   * SQL: TypeORM's query builder costs ~60 µs of CPU per row here, this ~10.
   * Values are written as escaped literals ({@link sqlLiteral}), not bound
   * parameters: a statement without parameters takes the simple query
   * protocol, which on the embedded database costs about half of a
   * parameterised one (PGlite runs parse, describe, bind, describe, execute
   * and sync as six passes of its main loop): ~170 vs ~340 µs of CPU for an
   * INSERT of one row, ~860 vs ~1,300 for sixteen.
   */
  private async insertRows(rows: AuditRow[], replay: boolean): Promise<void> {
    let values = '';
    for (const row of rows) {
      let tuple = '';
      for (const field of INSERT_FIELDS) {
        const value = row[field];
        tuple += (tuple ? ',' : '(') + sqlLiteral(JSON_FIELDS.has(field) && value !== null && value !== undefined ? JSON.stringify(value) : value);
      }
      values += (values ? ',' : '') + tuple + ')';
    }
    await this.repository.query(`INSERT INTO audit_events (${INSERT_COLUMNS}) VALUES ${values}${replay ? ' ON CONFLICT (event_id) DO NOTHING' : ''}`);
  }
}

/**
 * A value as an SQL string constant, `NULL` for none: pg's `escapeLiteral`
 * (libpq's PQescapeLiteral rule: quotes doubled, and backslashes doubled in an
 * `E'…'` constant), whatever standard_conforming_strings says. INSERT … VALUES
 * converts the constant to its column's type, as it would a text parameter.
 * Dates as ISO 8601.
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = value instanceof Date ? value.toISOString() : String(value);
  // escapeLiteral builds its result a character at a time: the usual value, with nothing to escape, is simply quoted.
  return text.includes("'") || text.includes('\\') ? escapeLiteral(text) : `'${text}'`;
}

/**
 * `value` with every NUL character (in strings and object keys, at any depth)
 * replaced by U+FFFD: PostgreSQL stores no NUL in text or jsonb, and one such
 * row would fail its whole INSERT, again on every retry. The same value when it
 * holds none (the usual case: nothing is copied).
 */
export function withoutNul<T>(value: T): T {
  return hasNul(value) ? replaceNul(value) : value;
}

/** Whether `value` holds a NUL anywhere {@link withoutNul} looks: a walk that allocates nothing. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const key in value) if (key.includes('\0') || hasNul((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

function replaceNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value) as T;
  if (Array.isArray(value)) {
    const items = value.map(withoutNul);
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let changed = false;
    const entries = Object.entries(value).map(([name, item]) => {
      const [cleanName, cleanItem] = [withoutNul(name), withoutNul(item)];
      if (cleanName !== name || cleanItem !== item) changed = true;
      return [cleanName, cleanItem];
    });
    return (changed ? Object.fromEntries(entries) : value) as T;
  }
  return value;
}
