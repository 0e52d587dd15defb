import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ReadinessService } from './readiness.service';

/** Terminus health on the status port, open to everyone: liveness (the process answers) and readiness (its dependencies do). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessService,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Overall health: the same as /health/ready.' })
  overall() {
    return this.readiness.check();
  }

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: 200 while the process answers (also while it drains).' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: 503 while shutting down or when a required dependency is down; the body names each indicator and why.' })
  ready() {
    return this.readiness.check();
  }
}
