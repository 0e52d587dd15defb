import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import type { AppConfig } from '../config/app-config';
import { LegacySessionsService } from './legacy-sessions.service';
import { LegacySseController } from './legacy-sse/legacy-sse.controller';
import { LegacySseService } from './legacy-sse/legacy-sse.service';
import { LiveSessionRegistry } from './live-session.registry';
import { McpController } from './mcp.controller';
import { ModernHandlerService } from './modern-handler.service';
import { RoamingSessionsService } from './roaming/roaming-sessions.service';
import { SessionRelay } from './roaming/session-relay.service';
import { StreamLimiter } from './stream-limiter.service';

/**
 * `/mcp` in both eras, and the legacy HTTP+SSE pair `/sse` + `/messages`
 * unless LEGACY_SSE_ENABLED is off. With REDIS_URL, legacy sessions on `/mcp`
 * roam: any instance serves them (`roaming/`).
 */
@Module({})
export class TransportModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: TransportModule,
      imports: [AuthModule],
      controllers: config.legacySse.enabled ? [LegacySseController] : [],
      providers: [
        McpController,
        ModernHandlerService,
        LiveSessionRegistry,
        LegacySessionsService,
        LegacySseService,
        StreamLimiter,
        ...(config.redis ? [SessionRelay, RoamingSessionsService] : []),
      ],
      exports: [LiveSessionRegistry],
    };
  }
}
