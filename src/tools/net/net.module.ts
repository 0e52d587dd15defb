import { Module } from '@nestjs/common';
import { NetTools } from './net.tools';
import { PageFetcher } from './page-fetcher.service';
import { SsrfModule } from './ssrf/ssrf.module';
import { SystemPing } from './system-ping';

/** `net_ping_host`, `net_check_common_ports` and `net_fetch_page`, behind the SSRF guard. Importing the module registers them. */
@Module({ imports: [SsrfModule], providers: [NetTools, PageFetcher, SystemPing] })
export class NetModule {}
