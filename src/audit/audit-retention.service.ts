import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AuditService } from './audit.service';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes audit events older than AUDIT_RETENTION_DAYS, once at start and then
 * daily. Per writer chain it deletes a contiguous prefix (every row up to the
 * newest expired one) and leaves a checkpoint with the last deleted hash, so
 * `portico audit verify` still verifies what remains. The only code that
 * deletes: it sets `portico.audit_retention` for its transaction, which the
 * append-only trigger requires.
 */
@Injectable()
export class AuditRetentionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('AuditRetention');
  private timer?: NodeJS.Timeout;
  private first?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.audit.retentionDays) return;
    const run = () => this.prune().catch((e) => this.logger.warn({ err: e }, 'audit retention failed; will retry'));
    this.first = setTimeout(run, 10_000).unref();
    this.timer = setInterval(run, DAY_MS).unref();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.first);
    clearInterval(this.timer);
  }

  /** Deletes what is older than the retention; returns the number of rows deleted. */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.audit.retentionDays * DAY_MS);
    const deleted = await this.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL portico.audit_retention = 'on'`);
      const chains: { instance_id: string; seq: string }[] = await tx.query(
        `SELECT instance_id, max(seq)::text AS seq FROM audit_events WHERE occurred_at < $1 AND instance_id IS NOT NULL GROUP BY instance_id`,
        [cutoff],
      );
      let total = 0;
      for (const { instance_id: instanceId, seq } of chains) {
        const [{ hash }] = await tx.query(`SELECT hash FROM audit_events WHERE instance_id = $1 AND seq = $2`, [instanceId, seq]);
        const [{ count }] = await tx.query(
          `WITH d AS (DELETE FROM audit_events WHERE instance_id = $1 AND seq <= $2 RETURNING 1) SELECT count(*)::int AS count FROM d`,
          [instanceId, seq],
        );
        await tx.query(
          `INSERT INTO audit_checkpoints (instance_id, up_to_seq, hash, deleted_rows) VALUES ($1, $2, $3, $4)`,
          [instanceId, seq, hash, count],
        );
        total += count;
      }
      const [{ count: unchained }] = await tx.query(
        `WITH d AS (DELETE FROM audit_events WHERE occurred_at < $1 AND instance_id IS NULL RETURNING 1) SELECT count(*)::int AS count FROM d`,
        [cutoff],
      );
      return total + unchained;
    });
    if (deleted) {
      this.logger.log({ deleted, cutoff }, 'audit retention applied');
      this.audit.record({ kind: 'audit_retention', outcome: 'ok', detail: { deleted, cutoff: cutoff.toISOString(), retentionDays: this.config.audit.retentionDays } });
    }
    return deleted;
  }
}
