import { isLegacyRequest } from '@modelcontextprotocol/server';
import { toWebRequest } from '@modelcontextprotocol/node';
import { Controller, Delete, Get, Post, Req, Res } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { rejectBatch } from '../common/json-rpc-error';
import { LegacySessionsService } from './legacy-sessions.service';
import { ModernHandlerService } from './modern-handler.service';

/**
 * `/mcp`, both protocol eras. Each POST is classified by the SDK: modern
 * (2026-07-28) traffic goes to the stateless handler, legacy traffic to the
 * sessions. GET and DELETE exist only in the legacy era.
 */
@Controller('mcp')
export class McpController {
  constructor(
    private readonly modern: ModernHandlerService,
    private readonly legacy: LegacySessionsService,
  ) {}

  @Post()
  async post(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    if (rejectBatch(req, res)) return;
    const legacy = await isLegacyRequest(await toWebRequest(req, req.body ?? {}), req.body);
    if (legacy) await this.legacy.post(req, res, principal);
    else await this.modern.handle(req, res, principal);
  }

  @Get()
  async get(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.legacy.other(req, res, principal);
  }

  @Delete()
  async delete(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.legacy.other(req, res, principal);
  }
}
