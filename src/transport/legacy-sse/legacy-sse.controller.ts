import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { StreamLimiter } from '../stream-limiter.service';
import { LegacySseService } from './legacy-sse.service';

/**
 * `GET /sse` and `POST /messages`, the HTTP+SSE transport of MCP 2024-11-05
 * for clients that never moved to `/mcp`. Mounted only with
 * LEGACY_SSE_ENABLED; authenticated like every route.
 */
@Controller()
export class LegacySseController {
  constructor(
    private readonly sse: LegacySseService,
    private readonly streams: StreamLimiter,
  ) {}

  @Get('sse')
  async open(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    // Express routes HEAD here as well: answer it without opening a session that nobody reads.
    if (req.method === 'HEAD') return void res.status(200).type('text/event-stream').end();
    if (!this.streams.admit('sse', principal, res)) return;
    await this.sse.open(res, principal);
  }

  @Post('messages')
  async post(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.sse.post(req, res, principal);
  }
}
