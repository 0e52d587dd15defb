import { Logger } from '@nestjs/common';
import type { ToolInvoker } from '@portico/mcp-core';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config';
import { type ChainedRow, chainHash, GENESIS_HASH } from './audit.chain';
import { escapeLiteral } from 'pg';
import { type AuditRow, AuditService, INSERT_FIELDS, sqlLiteral, withoutNul } from './audit.service';

/** The rows of one of the writer's INSERTs, read back from its literals as the database would convert them. */
function rowsOf(sql: string): AuditRow[] {
  const values = [...sql.slice(sql.indexOf(' VALUES ')).matchAll(/NULL|E?'((?:[^'\\]|''|\\\\)*)'/g)].map((m) =>
    m[0] === 'NULL' ? null : m[1].replace(/''|\\\\/g, (pair) => pair[0]),
  );
  const rows: AuditRow[] = [];
  for (let i = 0; i < values.length; i += INSERT_FIELDS.length) {
    const row: Record<string, unknown> = Object.fromEntries(INSERT_FIELDS.map((f, j) => [f, values[i + j]]));
    row.occurredAt = new Date(row.occurredAt as string);
    for (const f of ['durationMs', 'resultBytes']) if (row[f] !== null) row[f] = Number(row[f]);
    for (const f of ['arguments', 'detail']) if (row[f] !== null) row[f] = JSON.parse(row[f] as string);
    rows.push(row as unknown as AuditRow);
  }
  return rows;
}

/**
 * A repository double whose inserts can be made to fail, keyed by event id like
 * the real unique index: an INSERT with ON CONFLICT skips ids already stored,
 * one without fails whole on such an id.
 */
function fakeRepository() {
  const rows = new Map<string, AuditRow>();
  const state = { down: false, inserts: 0 };
  const repository = {
    query: async (sql: string) => {
      if (state.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      expect(sql).toMatch(/\)( ON CONFLICT \(event_id\) DO NOTHING)?$/);
      state.inserts++;
      const batch = rowsOf(sql);
      if (!sql.endsWith(' DO NOTHING') && batch.some((row) => rows.has(row.eventId))) {
        throw new Error('duplicate key value violates unique constraint "uq_audit_events_event_id"');
      }
      for (const row of batch) if (!rows.has(row.eventId)) rows.set(row.eventId, row);
    },
  };
  return { repository, rows, state };
}

describe('AuditService writer', () => {
  let dir: string;
  const invoker = { addListener: () => undefined } as unknown as ToolInvoker;
  const service = (repository: unknown) => new AuditService(repository as never, invoker, { dataDir: dir } as AppConfig);
  const record = (s: AuditService, n: number) => {
    for (let i = 0; i < n; i++) s.record({ kind: 'tool_call', outcome: 'ok', tool: `t${i}` });
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-audit-'));
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chains every row to the one before it, from the genesis hash', async () => {
    const { repository, rows } = fakeRepository();
    const s = service(repository);
    record(s, 3);
    await s.flush();
    const chain = [...rows.values()].sort((a, b) => Number(a.seq) - Number(b.seq));
    expect(chain.map((r) => r.seq)).toEqual(['1', '2', '3']);
    expect(chain[0].prevHash).toBe(GENESIS_HASH);
    for (let i = 0; i < chain.length; i++) {
      const { hash, ...content } = chain[i];
      expect(chainHash(content as ChainedRow)).toBe(hash);
      if (i) expect(chain[i].prevHash).toBe(chain[i - 1].hash);
    }
  });

  it('journals to disk while the database is away, and replays in order exactly once when it is back', async () => {
    const { repository, rows, state } = fakeRepository();
    const s = service(repository);
    state.down = true;
    record(s, 5);
    await s.flush();
    expect(rows.size).toBe(0);
    expect(s.backlog).toEqual({ queued: 0, held: 0, dropped: 0, journaled: true, journalBytes: expect.any(Number) });
    expect(s.backlog.journalBytes).toBeGreaterThan(0);

    // More events during the outage follow the first ones onto the journal.
    record(s, 3);
    await new Promise((r) => setTimeout(r, 50)); // the writer takes them at once (group commit)
    expect(s.backlog.queued).toBe(0);

    state.down = false;
    await new Promise((r) => setTimeout(r, 600)); // the retry comes after a short backoff
    await s.flush();
    expect(rows.size).toBe(8);
    expect([...rows.values()].map((r) => Number(r.seq)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.backlog).toEqual({ queued: 0, held: 0, dropped: 0, journaled: false, journalBytes: 0 });
  });

  it('a new process replays the journal an earlier one left (crash while the database was away), without duplicates', async () => {
    const first = fakeRepository();
    first.state.down = true;
    const dead = service(first.repository);
    record(dead, 4);
    await dead.flush(); // on disk now; the process "dies" here

    const second = fakeRepository();
    // The database got one of the rows before the crash: the replay must not duplicate it.
    const journaled = readFileSync(join(dir, 'audit', 'audit-journal.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRow);
    expect(journaled).toHaveLength(4);
    second.rows.set(journaled[0].eventId, journaled[0]);
    const s = service(second.repository);
    s.onModuleInit();
    await new Promise((r) => setTimeout(r, 20));
    await s.flush();
    expect(second.rows.size).toBe(4);
    await s.flush();
    expect(second.rows.size).toBe(4);
  });

  it('never drops: past the queue bound, events go straight to the journal', async () => {
    const { repository, rows, state } = fakeRepository();
    state.down = true;
    const s = service(repository);
    record(s, 10_050);
    expect(s.backlog.queued).toBeLessThan(10_000);
    expect(s.backlog.journaled).toBe(true);
    state.down = false;
    await new Promise((r) => setTimeout(r, 200));
    await s.beforeApplicationShutdown();
    await s.flush();
    expect(rows.size).toBe(10_050);
  });

  it('group commit: a durable record resolves once its INSERT is committed; what queues meanwhile goes in the next INSERT', async () => {
    const { repository, rows } = fakeRepository();
    const batches: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const query = repository.query;
    repository.query = async (sql: string) => {
      batches.push(rowsOf(sql).length);
      if (batches.length === 1) await gate;
      return query(sql);
    };
    const s = service(repository);
    let firstDone = false;
    const first = s.recordDurably({ kind: 'tool_call', outcome: 'ok', tool: 'first' }).then(() => (firstDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(batches).toEqual([1]); // written at once, no timer
    const later = Array.from({ length: 5 }, (_, i) => s.recordDurably({ kind: 'tool_call', outcome: 'ok', tool: `later${i}` }));
    await new Promise((r) => setTimeout(r, 20));
    expect(firstDone).toBe(false); // its INSERT has not committed
    expect(batches).toEqual([1]); // the others wait for the writer
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([1, 5]);
    expect(rows.size).toBe(6);
  });

  it('a durable record resolves once it is fsync\'d into the journal while the database is away', async () => {
    const { repository, rows, state } = fakeRepository();
    state.down = true;
    const s = service(repository);
    await s.recordDurably({ kind: 'tool_call', outcome: 'ok', tool: 'a' });
    expect(rows.size).toBe(0);
    const journaled = readFileSync(join(dir, 'audit', 'audit-journal.ndjson'), 'utf8').trim().split('\n');
    expect(journaled.map((l) => (JSON.parse(l) as AuditRow).tool)).toEqual(['a']);
    // Later events during the outage go to the journal at once too, not at the next retry.
    await s.recordDurably({ kind: 'tool_call', outcome: 'ok', tool: 'b' });
    expect(readFileSync(join(dir, 'audit', 'audit-journal.ndjson'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('journal unwritable while the database is away: no throw, events held in memory, loud log, recovery in order', async () => {
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { repository, rows, state } = fakeRepository();
    state.down = true;
    const s = service(repository);
    // A directory where the journal file goes: every append fails (EISDIR), even for root.
    mkdirSync(join(dir, 'audit', 'audit-journal.ndjson'));
    await Promise.all([1, 2, 3].map((i) => s.recordDurably({ kind: 'tool_call', outcome: 'ok', tool: `t${i}` })));
    record(s, 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.backlog).toEqual({ queued: 0, held: 5, dropped: 0, journaled: false, journalBytes: 0 });
    expect(errors).toHaveBeenCalledWith(expect.objectContaining({ held: expect.any(Number) }), expect.stringMatching(/^AUDIT JOURNAL WRITE FAILED/));

    // The disk comes back: the held rows reach the journal on the next retry.
    rmSync(join(dir, 'audit', 'audit-journal.ndjson'), { recursive: true });
    await new Promise((r) => setTimeout(r, 600));
    expect(s.backlog.held).toBe(0);
    expect(s.backlog.journaled).toBe(true);

    state.down = false;
    await new Promise((r) => setTimeout(r, 1000));
    await s.flush();
    expect([...rows.values()].map((r) => Number(r.seq)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(s.backlog).toEqual({ queued: 0, held: 0, dropped: 0, journaled: false, journalBytes: 0 });
  });

  it('rows held in memory go straight to the database when it returns before the disk', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { repository, rows, state } = fakeRepository();
    state.down = true;
    const s = service(repository);
    mkdirSync(join(dir, 'audit', 'audit-journal.ndjson'));
    record(s, 3);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.backlog.held).toBe(3);
    state.down = false;
    await new Promise((r) => setTimeout(r, 600));
    await s.flush();
    expect(rows.size).toBe(3);
    expect(s.backlog.held).toBe(0);
  });

  it('an INSERT that committed but reported a failure (connection lost after the commit): its replay does not duplicate the rows', async () => {
    const { repository, rows } = fakeRepository();
    const query = repository.query;
    const sqls: string[] = [];
    repository.query = async (sql: string) => {
      sqls.push(sql);
      await query(sql);
      if (sqls.length === 1) throw new Error('Connection terminated unexpectedly');
    };
    const s = service(repository);
    await Promise.all([1, 2].map((i) => s.recordDurably({ kind: 'tool_call', outcome: 'ok', tool: `t${i}` })));
    expect(rows.size).toBe(2);
    expect(s.backlog.journaled).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    await s.flush();
    expect(sqls).toHaveLength(2);
    expect(sqls[0]).not.toMatch(/ON CONFLICT/); // fresh rows: never sent before
    expect(sqls[1]).toMatch(/ON CONFLICT \(event_id\) DO NOTHING$/); // the replay
    expect([...rows.values()].map((r) => r.tool)).toEqual(['t1', 't2']);
    expect(s.backlog).toEqual({ queued: 0, held: 0, dropped: 0, journaled: false, journalBytes: 0 });
  });

  it('a database that hangs holds a durable record at most the INSERT timeout: then it is journaled', async () => {
    const { repository, rows } = fakeRepository();
    const query = repository.query;
    let hang = true;
    repository.query = (sql: string) => (hang ? new Promise<void>(() => undefined) : query(sql));
    const s = service(repository);
    const started = Date.now();
    await s.recordDurably({ kind: 'tool_call', outcome: 'ok', tool: 'stuck' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
    expect(Date.now() - started).toBeLessThan(7000);
    expect(s.backlog.journaled).toBe(true);
    hang = false;
    await new Promise((r) => setTimeout(r, 300));
    await s.flush();
    expect([...rows.values()].map((r) => r.tool)).toEqual(['stuck']);
  }, 15_000);
});

describe('audit value helpers', () => {
  it('sqlLiteral quotes like libpq: quotes doubled, backslashes doubled in an E constant, NULL for none', () => {
    for (const text of ['', 'plain', "it's", 'a\\b', "both ' and \\", "''", 'ünïcødé ✓']) expect(sqlLiteral(text)).toBe(escapeLiteral(text));
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral('a\\b')).toBe(" E'a\\\\b'");
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(undefined)).toBe('NULL');
    expect(sqlLiteral(12.5)).toBe("'12.5'");
    expect(sqlLiteral(new Date('2026-11-26T10:00:00.000Z'))).toBe("'2026-11-26T10:00:00.000Z'");
  });

  it('withoutNul replaces NUL in strings and keys at any depth, and returns the same value when there is none', () => {
    const clean = { a: 'x', b: [1, 'y', { c: null }], d: new Date(0) };
    expect(withoutNul(clean)).toBe(clean);
    expect(withoutNul({ a: 'x\0y', b: [{ 'k\0': ['\0'] }], c: 'same' })).toEqual({ a: 'x\uFFFDy', b: [{ 'k\uFFFD': ['\uFFFD'] }], c: 'same' });
    expect(withoutNul('\0')).toBe('\uFFFD');
  });
});
