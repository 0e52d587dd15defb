import { Logger } from '@nestjs/common';
import type { ToolInvoker } from '@portico/mcp-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config';
import { type ChainedRow, chainHash, GENESIS_HASH } from './audit.chain';
import { type AuditRow, AuditService, INSERT_FIELDS } from './audit.service';

/** A repository double whose inserts can be made to fail, keyed by event id like the real unique index. */
function fakeRepository() {
  const rows = new Map<string, AuditRow>();
  const state = { down: false, inserts: 0 };
  const repository = {
    query: async (sql: string, params: unknown[]) => {
      if (state.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      expect(sql).toMatch(/ON CONFLICT \(event_id\) DO NOTHING$/);
      state.inserts++;
      for (let i = 0; i < params.length; i += INSERT_FIELDS.length) {
        const row = Object.fromEntries(INSERT_FIELDS.map((f, j) => [f, params[i + j]])) as unknown as AuditRow;
        for (const f of ['arguments', 'detail'] as const) if (typeof row[f] === 'string') (row as unknown as Record<string, unknown>)[f] = JSON.parse(row[f] as string);
        if (!rows.has(row.eventId)) rows.set(row.eventId, row);
      }
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
    expect(s.backlog).toEqual({ queued: 0, journaled: true, journalBytes: expect.any(Number) });
    expect(s.backlog.journalBytes).toBeGreaterThan(0);

    // More events during the outage follow the first ones onto the journal.
    record(s, 3);
    await new Promise((r) => setTimeout(r, 300)); // one flush delay (200 ms)
    expect(s.backlog.queued).toBe(0);

    state.down = false;
    await new Promise((r) => setTimeout(r, 600)); // the retry comes after a short backoff
    await s.flush();
    expect(rows.size).toBe(8);
    expect([...rows.values()].map((r) => Number(r.seq)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.backlog).toEqual({ queued: 0, journaled: false, journalBytes: 0 });
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
    await s.onApplicationShutdown();
    await s.flush();
    expect(rows.size).toBe(10_050);
  });
});
