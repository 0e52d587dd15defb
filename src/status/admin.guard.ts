import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The status port's administrative routes (audit, later status and metrics)
 * need `Authorization: Bearer <STATUS_ADMIN_TOKEN>`. Without a configured
 * token they are closed to everyone.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.status.adminToken ? digest(config.status.adminToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const header = http.getRequest<Request>().headers.authorization;
    const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (this.expected && presented && timingSafeEqual(digest(presented), this.expected)) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="Portico status"');
    throw new UnauthorizedException(
      this.expected ? 'Admin token required' : 'The admin API is disabled: set STATUS_ADMIN_TOKEN to enable it',
    );
  }
}
