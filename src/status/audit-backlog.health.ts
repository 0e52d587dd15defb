import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/**
 * The audit writer's backlog. `down` (readiness 503) when events are held in
 * memory only — the database is away and the journal cannot be written (disk
 * full or read-only): tool calls are then answered without a durable audit
 * row, so the instance leaves the rotation. `degraded` (readiness stays 200) when events
 * wait on disk in the journal, or more than AUDIT_BACKLOG_DEGRADED wait in
 * memory; never `down`. The writer loses nothing while the database is away
 * (the journal is fsync'd and replayed), so a backlog alone is no reason to
 * take the instance out of rotation: when the database is the cause, the
 * `database` indicator already fails readiness. A journal that stays
 * non-empty while the database answers is a stuck writer: alert on it (see
 * docs/operations.md).
 */
@Injectable()
export class AuditBacklogHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  check(key: string) {
    const indicator = this.health.check(key);
    const { queued, held, dropped, journaled, journalBytes } = this.audit.backlog;
    const threshold = this.config.status.auditBacklogDegraded;
    if (held) {
      return indicator.down({
        queued,
        held,
        dropped,
        journalBytes,
        message: 'audit events are held in memory only: the database is away and the journal cannot be written',
      });
    }
    if (journaled) {
      return indicator.degraded({ queued, journalBytes, message: 'audit events wait in the on-disk journal for the database' });
    }
    if (queued > threshold) {
      return indicator.degraded({ queued, journalBytes, message: `more than ${threshold} audit events wait to be written` });
    }
    return indicator.up({ queued, journalBytes });
  }
}
