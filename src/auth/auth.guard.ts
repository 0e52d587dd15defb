import { ExecutionContext, Inject, Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { requestContext } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { ProtectedResourceService } from './protected-resource.service';
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
 * Every 401 carries a Bearer challenge pointing at the protected-resource
 * metadata (RFC 9728), so OAuth clients can discover the authorization server.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('bearer') {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly resource: ProtectedResourceService,
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
      this.challenge(context, this.resource.unauthorizedChallenge('invalid_request'));
      throw new UnauthorizedException('Send the token in the Authorization header, never in the query string');
    }
    return (await super.canActivate(context)) as boolean;
  }

  handleRequest<T = Principal>(err: unknown, user: T | false, info: unknown, context: ExecutionContext): T {
    if (err instanceof ServiceUnavailableException) {
      // The credential could not be checked (the IdP's keys are unreachable): not the client's fault.
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', '5');
      throw err;
    }
    if (err || !user) {
      this.metrics.authFailure('bearer');
      const invalid = typeof info === 'string' && info.includes('invalid_token');
      this.challenge(context, this.resource.unauthorizedChallenge(invalid ? 'invalid_token' : undefined));
      throw new UnauthorizedException(invalid ? 'The bearer token is not valid' : 'Authentication required: send Authorization: Bearer <token>');
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
