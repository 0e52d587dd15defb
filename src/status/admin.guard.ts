import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { StatusTokens } from './status-tokens';

/** Answers 401 with a Bearer challenge. */
export function statusUnauthorized(res: Response, message: string): UnauthorizedException {
  res.setHeader('WWW-Authenticate', 'Bearer realm="Portico status"');
  return new UnauthorizedException(message);
}

/**
 * The status port's administrative routes (full status, sessions, tools,
 * metrics, audit) need `Authorization: Bearer <STATUS_ADMIN_TOKEN>`. Without
 * a configured token they are closed to everyone.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly tokens: StatusTokens) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    if (this.tokens.isAdmin(http.getRequest<Request>())) return true;
    throw statusUnauthorized(
      http.getResponse<Response>(),
      this.tokens.adminConfigured ? 'Admin token required' : 'The admin API is disabled: set STATUS_ADMIN_TOKEN to enable it',
    );
  }
}

/** `/metrics`: the admin token, the metrics token (METRICS_TOKEN), or nothing when METRICS_PUBLIC=true. */
@Injectable()
export class MetricsGuard implements CanActivate {
  constructor(private readonly tokens: StatusTokens) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    if (this.tokens.mayScrape(http.getRequest<Request>())) return true;
    throw statusUnauthorized(http.getResponse<Response>(), 'A metrics or admin token is required (or set METRICS_PUBLIC=true)');
  }
}
