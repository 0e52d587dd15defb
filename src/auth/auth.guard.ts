import { ExecutionContext, HttpException, HttpStatus, Inject, Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { requestContext } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import type { Lockout } from '../throttle/lockout.service';
import { AuthAttemptsService } from './auth-attempts.service';
import { AUTH_REALM } from './auth.constants';
import { type AuthNote, noteOf } from './auth-note';
import { parseBasic } from './basic.strategy';
import { ProtectedResourceService } from './protected-resource.service';
import { IS_PUBLIC } from './public.decorator';
import { userAccount } from './users.service';
import type { AuthFailureReason } from './verification';

/** The principal of every request when `AUTH_DISABLED=true` (loopback only). */
export const ANONYMOUS: Principal = {
  id: 'anonymous',
  kind: 'anonymous',
  displayName: 'anonymous',
  scopes: ['*'],
  authMethod: 'none',
};

const MESSAGES: Record<AuthNote['via'], string> = {
  bearer: 'The bearer token is not valid',
  basic: 'The user name or password is not valid',
  'x-api-key': 'The API key is not valid',
};

/** Reasons told to the caller: each is only ever given to one who presented the right secret. */
const TOLD: Partial<Record<AuthFailureReason, string>> = {
  revoked: 'The API key has been revoked',
  expired: 'The API key has expired',
  disabled: 'The user is disabled',
};

/**
 * Authenticates every request of the MCP app except `@Public()` routes, with
 * an OAuth access token, a static token or an API key (`Authorization:
 * Bearer`), an API key (`X-API-Key`) or a user (`Authorization: Basic`). A
 * session never authenticates anyone: the credential is checked each time.
 *
 * Before the check, a running auth-failure cool-down for the client IP or
 * the named user answers 429 with `Retry-After`; after it, failures are
 * counted and audited (see {@link AuthAttemptsService}). Every 401 carries
 * two challenges: Bearer, pointing at the protected-resource metadata (RFC
 * 9728) so OAuth clients can discover the authorization server, then Basic.
 */
/**
 * A bearer token sent as `access_token` in the query string (any encoding of
 * the name) or the body: RFC 6750 allows both and passport-http-bearer reads
 * both, but MCP requires the Authorization header (URLs end up in logs and
 * proxies' histories). Refused, never tried.
 */
function tokenOutsideHeader(req: Request): boolean {
  const q = req.originalUrl.indexOf('?');
  if (q >= 0 && new URLSearchParams(req.originalUrl.slice(q + 1)).has('access_token')) return true;
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && Object.hasOwn(body, 'access_token');
}

@Injectable()
export class AuthGuard extends PassportAuthGuard(['bearer', 'api-key', 'basic']) {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly resource: ProtectedResourceService,
    private readonly attempts: AuthAttemptsService,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<Request & { user?: Principal | false }>();
    const res = context.switchToHttp().getResponse<Response>();
    if (this.config.auth.disabled) {
      req.user = ANONYMOUS;
      remember(ANONYMOUS);
      return true;
    }
    if (tokenOutsideHeader(req)) {
      this.metrics.authFailure('bearer');
      this.challenge(res, 'invalid_request');
      throw new UnauthorizedException('Send the token in the Authorization header, never in the query string or the body');
    }

    const basic = parseBasic(req.headers.authorization);
    const claimed = basic ? { method: 'basic' as const, account: userAccount(basic.username) } : undefined;
    const refusal = await this.attempts.refusal(req.ip, claimed);
    if (refusal) tooManyFailures(res, refusal);

    await super.canActivate(context);
    const note = noteOf(req);
    if (req.user) {
      remember(req.user);
      // OAuth audits its successes itself, once per token.
      if (note && note.attempt.method !== 'oauth') await this.attempts.succeeded(req.ip, note.attempt, req.user);
      return true;
    }
    if (!note?.reason) {
      // No credential at all (a client's first, discovery request): challenged, neither counted toward the lockout nor audited.
      this.metrics.authFailure('none');
      this.challenge(res);
      throw new UnauthorizedException('Authentication required: send Authorization: Bearer <token>, X-API-Key: <key> or Authorization: Basic');
    }
    this.metrics.authFailure(note.attempt.method);
    if (note.attempt.method !== 'oauth') {
      const lock = await this.attempts.failed(req.ip, note.attempt, note.reason);
      if (lock) tooManyFailures(res, lock);
    }
    this.challenge(res, note.via === 'bearer' ? 'invalid_token' : undefined);
    throw new UnauthorizedException(TOLD[note.reason] ?? MESSAGES[note.via]);
  }

  /** Passes the outcome through: `canActivate` decides (it needs async work passport's callback cannot await). */
  handleRequest<T = Principal>(err: unknown, user: T | false, _info: unknown, context: ExecutionContext): T {
    if (err instanceof ServiceUnavailableException) {
      // The credential could not be checked (the IdP's keys are unreachable): not the client's fault.
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', '5');
    }
    if (err) throw err;
    return (user || false) as T;
  }

  /**
   * The challenges of a 401, as two `WWW-Authenticate` fields, Bearer first:
   * clients that read one field (Go's `Header.Get`) or only the first scheme
   * (the MCP SDK's OAuth discovery) find the Bearer one with its
   * `resource_metadata`; clients that join them see `Bearer …, Basic …`.
   */
  private challenge(res: Response, error?: 'invalid_token' | 'invalid_request'): void {
    res.setHeader('WWW-Authenticate', [this.resource.unauthorizedChallenge(error), `Basic realm="${AUTH_REALM}"`]);
  }
}

function tooManyFailures(res: Response, lock: Lockout): never {
  res.setHeader('Retry-After', String(lock.retryAfterSeconds));
  throw new HttpException(`Too many failed authentication attempts: retry in ${lock.retryAfterSeconds} s`, HttpStatus.TOO_MANY_REQUESTS);
}

function remember(principal: Principal): void {
  const store = requestContext.getStore();
  if (store) store.principalId = principal.id;
}
