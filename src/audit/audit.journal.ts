import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The on-disk journal of audit rows the database has not taken yet:
 * append-only NDJSON, fsync'd on every append, replayed in order when the
 * database is back (inserts are idempotent by event id, so a replay after a
 * crash never duplicates).
 */
export class AuditJournal<T> {
  readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'audit-journal.ndjson');
  }

  /** Appends rows durably (the call returns after fsync). */
  append(rows: T[]): void {
    if (!rows.length) return;
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Every journaled row, oldest first; a torn last line (crash mid-write) is skipped. */
  read(revive: (raw: Record<string, unknown>) => T): T[] {
    if (!existsSync(this.file)) return [];
    const rows: T[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        rows.push(revive(JSON.parse(line) as Record<string, unknown>));
      } catch {
        // a line cut short by a crash: its row was never acknowledged to anyone
      }
    }
    return rows;
  }

  get empty(): boolean {
    return this.bytes === 0;
  }

  /** Size of the journal file in bytes (0 when there is none, or something else sits in its place). */
  get bytes(): number {
    try {
      // Asked on every writer pass: a missing file (the usual case) must not cost an exception.
      const stat = statSync(this.file, { throwIfNoEntry: false });
      return stat?.isFile() ? stat.size : 0;
    } catch {
      return 0;
    }
  }

  /** Drops the first `count` rows (they are in the database now), atomically. */
  drop(count: number, revive: (raw: Record<string, unknown>) => T): void {
    const rest = this.read(revive).slice(count);
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      if (rest.length) writeSync(fd, rest.map((r) => JSON.stringify(r)).join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
