import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { type HealthCheckResult, HealthCheckService, type HealthIndicatorFunction, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { type ReadinessCheck, ReadinessRegistry } from '../health/readiness.registry';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { AuditBacklogHealthIndicator } from './audit-backlog.health';
import { SessionStoreHealthIndicator } from './session-store.health';

/**
 * Readiness: the process is not shutting down, and every dependency answers
 * within READINESS_TIMEOUT_MS — the database (a real query), the session
 * store, the audit backlog (degraded only), and whatever modules registered
 * in the {@link ReadinessRegistry} (Redis, OpenProject). The body names each
 * indicator, and for those down, why.
 */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly sessions: SessionStoreHealthIndicator,
    private readonly audit: AuditBacklogHealthIndicator,
    private readonly lifecycle: LifecycleService,
    private readonly registry: ReadinessRegistry,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The Terminus check: resolves when ready (ok or degraded), throws 503 with the same body otherwise. */
  check(): Promise<HealthCheckResult> {
    const timeout = this.config.status.readinessTimeoutMs;
    const checks: HealthIndicatorFunction[] = [
      () => this.lifecycleCheck(),
      () => this.db.pingCheck('database', { connection: this.dataSource, timeout }),
      () => this.sessions.check('sessions', timeout),
      () => this.audit.check('audit'),
      ...this.registry.checks().map((c) => () => this.contributed(c, timeout)),
    ];
    return this.health.check(checks);
  }

  /** The readiness result, whether ready or not (for `/status`). */
  async result(): Promise<HealthCheckResult> {
    try {
      return await this.check();
    } catch (e) {
      if (e instanceof ServiceUnavailableException) return e.getResponse() as HealthCheckResult;
      throw e;
    }
  }

  private lifecycleCheck() {
    const indicator = this.indicators.check('lifecycle');
    return this.lifecycle.draining
      ? indicator.down({ message: 'shutting down: in-flight calls finish, new requests are refused' })
      : indicator.up();
  }

  private async contributed(check: ReadinessCheck, timeout: number) {
    const result = await this.indicators
      .check(check.name)
      .attempt(({ signal }) => check.check(signal))
      .withTimeout(check.timeoutMs ?? timeout);
    const { status, ...data } = result[check.name];
    return status === 'down' && check.severity === 'optional' ? this.indicators.check(check.name).degraded(data) : result;
  }
}
