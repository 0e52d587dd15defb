import { Module } from '@nestjs/common';
import { LegacySessionsService } from './legacy-sessions.service';
import { LiveSessionRegistry } from './live-session.registry';
import { McpController } from './mcp.controller';
import { ModernHandlerService } from './modern-handler.service';

@Module({
  controllers: [McpController],
  providers: [ModernHandlerService, LiveSessionRegistry, LegacySessionsService],
  exports: [LiveSessionRegistry],
})
export class TransportModule {}
