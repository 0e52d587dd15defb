import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/**
 * The audit writer's backlog. `degraded` (readiness stays 200) when events
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
    const { queued, journaled, journalBytes } = this.audit.backlog;
    const threshold = this.config.status.auditBacklogDegraded;
    if (journaled) {
      return indicator.degraded({ queued, journalBytes, message: 'audit events wait in the on-disk journal for the database' });
    }
    if (queued > threshold) {
      return indicator.degraded({ queued, journalBytes, message: `more than ${threshold} audit events wait to be written` });
    }
    return indicator.up({ queued, journalBytes });
  }
}
