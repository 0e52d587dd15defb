import { ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { requestContext } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { AUTH_REALM } from './bearer.strategy';
import { IS_PUBLIC } from './public.decorator';

/** The principal of every request when `AUTH_DISABLED=true` (loopback only). */
export const ANONYMOUS: Principal = {
  id: 'anonymous',
  kind: 'anonymous',
  displayName: 'anonymous',
  scopes: ['*'],
  authMethod: 'none',
};

/**
 * Authenticates every request of the MCP app except `@Public()` routes. A
 * session never authenticates anyone: the credential is checked each time.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('bearer') {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<Request & { user?: Principal }>();
    if (this.config.auth.disabled) {
      req.user = ANONYMOUS;
      this.remember(ANONYMOUS);
      return true;
    }
    if (/[?&]access_token=/.test(req.originalUrl)) {
      this.metrics.authFailure('bearer');
      this.challenge(context, `Bearer realm="${AUTH_REALM}", error="invalid_request"`);
      throw new UnauthorizedException('Send the token in the Authorization header, never in the query string');
    }
    return (await super.canActivate(context)) as boolean;
  }

  handleRequest<T = Principal>(err: unknown, user: T | false, info: unknown, context: ExecutionContext): T {
    if (err || !user) {
      this.metrics.authFailure('bearer');
      const challenge = typeof info === 'string' && info.startsWith('Bearer') ? info : `Bearer realm="${AUTH_REALM}"`;
      this.challenge(context, challenge);
      throw new UnauthorizedException(
        challenge.includes('invalid_token') ? 'The bearer token is not valid' : 'Authentication required: send Authorization: Bearer <token>',
      );
    }
    this.remember(user as unknown as Principal);
    return user;
  }

  private challenge(context: ExecutionContext, value: string): void {
    context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', value);
  }

  private remember(principal: Principal): void {
    const store = requestContext.getStore();
    if (store) store.principalId = principal.id;
  }
}
