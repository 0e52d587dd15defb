import { isLegacyRequest } from '@modelcontextprotocol/server';
import { toWebRequest } from '@modelcontextprotocol/node';
import { Controller, Delete, Get, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { rejectBatch } from '../common/json-rpc-error';
import { rememberTool } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { alignProtocolVersionHeader } from './client-quirks';
import { LegacySessionsService } from './legacy-sessions.service';
import { ModernHandlerService } from './modern-handler.service';

/**
 * `/mcp`, both protocol eras. Each POST is classified by the SDK: modern
 * (2026-07-28) traffic goes to the stateless handler, legacy traffic to the
 * sessions. GET and DELETE exist only in the legacy era.
 */
@Controller('mcp')
export class McpController {
  private readonly logger = new Logger('McpController');

  constructor(
    private readonly modern: ModernHandlerService,
    private readonly legacy: LegacySessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  @Post()
  async post(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    if (rejectBatch(req, res)) return;
    if (this.config.mcp.clientQuirks) await this.tolerateQuirks(req);
    const legacy = await isLegacyRequest(await toWebRequest(req, req.body ?? {}), req.body);
    this.metrics.mcpRequest((req.body as { method?: unknown } | undefined)?.method, legacy ? 'legacy' : 'modern');
    rememberTool(req.body);
    if (legacy) await this.legacy.post(req, res, principal);
    else await this.modern.handle(req, res, principal);
  }

  @Get()
  async get(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    if (this.config.mcp.clientQuirks) await this.tolerateQuirks(req);
    await this.legacy.other(req, res, principal);
  }

  @Delete()
  async delete(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    if (this.config.mcp.clientQuirks) await this.tolerateQuirks(req);
    await this.legacy.other(req, res, principal);
  }

  /** Accepts the known header/body era mismatches of shipped clients (see client-quirks.ts), and logs each. */
  private async tolerateQuirks(req: Request): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    const sessionVersion = typeof sessionId === 'string' ? await this.legacy.protocolVersionOf(sessionId) : undefined;
    const fix = alignProtocolVersionHeader(req, sessionVersion);
    if (fix) this.logger.log({ ...fix, userAgent: req.headers['user-agent'] }, `accepted client quirk ${fix.quirk}`);
  }
}
