import { Module } from '@nestjs/common';
import { LegacySessionsService } from './legacy-sessions.service';
import { McpController } from './mcp.controller';
import { ModernHandlerService } from './modern-handler.service';

@Module({
  controllers: [McpController],
  providers: [ModernHandlerService, LegacySessionsService],
  exports: [LegacySessionsService],
})
export class TransportModule {}
