import { Module } from '@nestjs/common';
import { HOST_RESOLVER, SystemHostResolver } from './host-resolver';
import { SsrfGuard } from './ssrf-guard.service';

/**
 * The SSRF guard for any module that connects where a caller says: import
 * this module and inject {@link SsrfGuard}. Configured by NET_ALLOW and
 * NET_DENY; resolves names with the system resolver (override
 * {@link HOST_RESOLVER} in tests).
 */
@Module({
  providers: [SsrfGuard, { provide: HOST_RESOLVER, useClass: SystemHostResolver }],
  exports: [SsrfGuard],
})
export class SsrfModule {}
