import { Controller, Get } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/public.decorator';
import { PACKAGE_VERSION } from '../common/paths';

/** Minimal unauthenticated liveness on the main port, for load balancers (never rate-limited). */
@SkipThrottle()
@Controller()
export class RootController {
  @Public()
  @Get()
  root() {
    return { name: 'portico', status: 'ok', mcp: '/mcp' };
  }

  @Public()
  @Get('health')
  health() {
    return { status: 'ok', version: PACKAGE_VERSION };
  }
}
