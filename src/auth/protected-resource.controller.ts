import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/server';
import { Controller, Get, Header, NotFoundException, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ProtectedResourceService } from './protected-resource.service';
import { Public } from './public.decorator';

/**
 * RFC 9728 Protected Resource Metadata, unauthenticated, at both
 * `/.well-known/oauth-protected-resource` and
 * `/.well-known/oauth-protected-resource/mcp` (clients try the path form
 * first, some only the root form).
 */
@Controller('.well-known')
export class ProtectedResourceController {
  constructor(private readonly resource: ProtectedResourceService) {}

  @Public()
  @Get(['oauth-protected-resource', 'oauth-protected-resource/*path'])
  @Header('Cache-Control', 'public, max-age=300')
  @Header('Access-Control-Allow-Origin', '*')
  metadata(@Req() req: Request): OAuthProtectedResourceMetadata {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    if (!this.resource.metadataPaths.includes(path)) throw new NotFoundException('No protected resource here');
    return this.resource.metadata();
  }
}
