import type { DataSource } from 'typeorm';
import { AuditCheckpoint } from './audit-checkpoint.entity';
import { AuditEvent } from './audit-event.entity';
import { chainHash, GENESIS_HASH } from './audit.chain';

export interface ChainProblem {
  instanceId: string;
  seq: string;
  /** Database id and event id of the first row that does not verify. */
  id?: string;
  eventId?: string;
  problem: string;
}

export interface VerifyReport {
  chains: number;
  rows: number;
  /** Rows written before chaining existed (no instance id): counted, not verifiable. */
  unchained: number;
  /** The first broken link of each chain that has one. */
  problems: ChainProblem[];
}

const PAGE = 1000;

/**
 * Walks every writer's chain in `seq` order and recomputes each row's hash
 * from its content and the previous hash (or the retention checkpoint where
 * older rows were deleted). Reports the first row of each chain that does not
 * verify: edited content, a missing row, or a broken link.
 */
export async function verifyAuditLog(dataSource: DataSource): Promise<VerifyReport> {
  const rows = dataSource.getRepository(AuditEvent);
  const instances: { instance_id: string }[] = await dataSource.query(
    `SELECT DISTINCT instance_id FROM audit_events WHERE instance_id IS NOT NULL ORDER BY instance_id`,
  );
  const [{ count: unchained }] = await dataSource.query(`SELECT count(*)::int AS count FROM audit_events WHERE instance_id IS NULL`);
  const report: VerifyReport = { chains: instances.length, rows: 0, unchained, problems: [] };

  for (const { instance_id: instanceId } of instances) {
    const checkpoint = await dataSource
      .getRepository(AuditCheckpoint)
      .findOne({ where: { instanceId }, order: { upToSeq: 'DESC' } });
    let expectedSeq = checkpoint ? BigInt(checkpoint.upToSeq) + 1n : 1n;
    let prev = checkpoint ? checkpoint.hash : GENESIS_HASH;
    let after = expectedSeq - 1n;
    walk: for (;;) {
      const page = await rows
        .createQueryBuilder('e')
        .where('e.instance_id = :instanceId AND e.seq > :after', { instanceId, after: after.toString() })
        .orderBy('e.seq', 'ASC')
        .take(PAGE)
        .getMany();
      for (const row of page) {
        report.rows++;
        const at = { instanceId, seq: String(row.seq), id: String(row.id), eventId: row.eventId };
        if (BigInt(row.seq!) !== expectedSeq) {
          report.problems.push({ ...at, problem: `row(s) missing before seq ${row.seq} (expected seq ${expectedSeq})` });
          break walk;
        }
        if (row.prevHash !== prev) {
          report.problems.push({ ...at, problem: 'prev_hash does not match the previous row' });
          break walk;
        }
        if (chainHash(row) !== row.hash) {
          report.problems.push({ ...at, problem: 'content does not match its hash (the row was changed)' });
          break walk;
        }
        prev = row.hash!;
        expectedSeq++;
        after = BigInt(row.seq!);
      }
      if (page.length < PAGE) break;
    }
  }
  return report;
}
