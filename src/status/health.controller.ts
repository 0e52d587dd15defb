import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { OpenProjectHealthIndicator } from '../integrations/openproject/openproject.health';
import { SessionStoreHealthIndicator } from './session-store.health';

/** Terminus health on the status port: liveness (the process answers) and readiness (its dependencies do). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly sessions: SessionStoreHealthIndicator,
    private readonly dataSource: DataSource,
    @Optional() @Inject(OpenProjectHealthIndicator) private readonly openproject?: OpenProjectHealthIndicator | null,
  ) {}

  @Get()
  @HealthCheck()
  overall() {
    return this.ready();
  }

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { connection: this.dataSource, timeout: 1500 }),
      () => this.sessions.check('sessions'),
      () => this.openproject?.check('openproject') ?? OpenProjectHealthIndicator.disabled('openproject'),
    ]);
  }
}
