import { Controller, Get, Inject, Logger, Param, Post, Req, Res } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import { Public } from '../auth/public.decorator';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ACCOUNT_VERIFIER, type AccountVerification, type AccountVerifier } from './account-verifier';
import { AuthorizationServerService } from './authorization-server.service';
import { consentPage, loginPage, messagePage, PAGE_HEADERS } from './interaction.views';
import { KeyStoreService } from './key-store.service';
import { RATE_LIMITER, type RateLimiter } from './rate-limiter';

type Details = Awaited<ReturnType<AuthorizationServerService['provider']['interactionDetails']>>;

/** A refusal rendered as a page: the message is safe to show. */
class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/**
 * The built-in authorization server's login and consent pages
 * (`/interaction/:uid`): server-rendered HTML, no script and no external
 * asset, never framed. Each form carries a CSRF token bound to the
 * interaction (an HMAC of its uid), on top of oidc-provider's own
 * `_interaction` cookie that ties the uid to this browser. Failed sign-ins
 * are rate-limited per client IP and per account and audited without the
 * secret; a consent is stored as an oidc-provider Grant, remembered per
 * account and client, and audited.
 */
@Controller('interaction')
@Public()
export class InteractionController {
  private readonly logger = new Logger('AuthorizationServer');

  constructor(
    private readonly server: AuthorizationServerService,
    private readonly keys: KeyStoreService,
    private readonly audit: AuditService,
    @Inject(ACCOUNT_VERIFIER) private readonly accounts: AccountVerifier,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(':uid')
  async show(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.handle(res, async () => {
      const details = await this.details(req, res, uid);
      if (details.prompt.name === 'login') return this.send(res, 200, loginPage(await this.loginView(details)));
      if (details.prompt.name === 'consent') return this.send(res, 200, consentPage(await this.consentView(details)));
      throw new PageError(400, 'Sign-in cannot continue', 'This step is not supported.');
    });
  }

  @Post(':uid/login')
  async login(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.handle(res, async () => {
      const details = await this.details(req, res, uid);
      this.checkCsrf(uid, req);
      if (details.prompt.name !== 'login') throw new PageError(400, 'Sign-in cannot continue', 'You are already signed in: reload the page.');
      const body = req.body as Record<string, unknown>;
      const method = body.method === 'password' && this.accounts.passwords ? 'password' : 'key';
      const username = typeof body.username === 'string' ? body.username.trim().slice(0, 256) : '';
      const limits = [`login:${req.ip}`, ...(method === 'password' && username ? [`login:user:${username}`] : [])];
      const limit = this.config.authorizationServer.rateLimits.login;
      const blocked = limits.map((key) => this.limiter.peek(key, limit)).find((v) => !v.allowed);
      if (blocked) {
        this.audit.record({ kind: 'auth_failure', outcome: 'locked', authMethod: 'oauth_login', errorCode: 'rate_limited', detail: { method } });
        throw new PageError(429, 'Too many attempts', `Too many failed sign-ins: try again in ${blocked.retryAfterSeconds} s.`, blocked.retryAfterSeconds);
      }

      const verdict: AccountVerification =
        method === 'password'
          ? await this.accounts.verifyPassword(username, typeof body.password === 'string' ? body.password : '')
          : await this.accounts.verifyKey(typeof body.key === 'string' ? body.key.trim() : '');
      if (!verdict.ok) {
        limits.forEach((key) => this.limiter.hit(key, limit));
        this.audit.record({
          kind: 'auth_failure',
          outcome: 'rejected',
          authMethod: 'oauth_login',
          errorCode: verdict.reason,
          detail: { method, account: verdict.account ?? null, reason: verdict.reason, clientId: details.params.client_id },
        });
        const view = await this.loginView(details);
        return this.send(res, 401, loginPage({ ...view, username, error: 'Sign-in failed: check what you entered and try again.' }));
      }
      this.audit.record({
        kind: 'auth_success',
        outcome: 'ok',
        principalId: verdict.principal.id,
        authMethod: 'oauth_login',
        detail: { method, clientId: details.params.client_id },
      });
      await this.server.provider.interactionFinished(req, res, { login: { accountId: verdict.principal.id } }, { mergeWithLastSubmission: false });
    });
  }

  @Post(':uid/confirm')
  async confirm(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.handle(res, async () => {
      const details = await this.details(req, res, uid);
      this.checkCsrf(uid, req);
      if (details.prompt.name !== 'consent') throw new PageError(400, 'Sign-in cannot continue', 'There is nothing to approve: reload the page.');
      const { provider } = this.server;
      const accountId = details.session!.accountId;
      const principal = await this.account(accountId);
      const clientId = String(details.params.client_id);
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId });
      if (!grant) throw new PageError(400, 'Sign-in cannot continue', 'This authorization has expired: start again from the application.');
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      const granted: Record<string, string[]> = {};
      for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        // An account grants only what it holds itself (static tokens hold every scope).
        const allowed = scopes.filter((s) => principal.scopes.includes('*') || principal.scopes.includes(s));
        const refused = scopes.filter((s) => !allowed.includes(s));
        if (allowed.length) grant.addResourceScope(resource, allowed.join(' '));
        if (refused.length) grant.rejectResourceScope(resource, refused.join(' '));
        granted[resource] = allowed;
      }
      const grantId = await grant.save();
      this.server.consentGiven(principal, { grantId, clientId, redirectUri: details.params.redirect_uri, scopes: granted });
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    });
  }

  @Post(':uid/abort')
  async abort(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.handle(res, async () => {
      await this.details(req, res, uid);
      this.checkCsrf(uid, req);
      await this.server.provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'The user denied the authorization' },
        { mergeWithLastSubmission: false },
      );
    });
  }

  /** The interaction, bound to this browser by oidc-provider's cookie; a page error when it is unknown, expired or not this browser's. */
  private async details(req: Request, res: Response, uid: string): Promise<Details> {
    let details: Details;
    try {
      details = await this.server.provider.interactionDetails(req, res);
    } catch {
      throw new PageError(400, 'Sign-in cannot continue', 'This sign-in has expired or was started in another browser: start again from the application.');
    }
    if (details.uid !== uid) throw new PageError(400, 'Sign-in cannot continue', 'This sign-in does not match this browser: start again from the application.');
    for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
    return details;
  }

  private csrfToken(uid: string): string {
    return createHmac('sha256', this.keys.csrfKey).update(`interaction:${uid}`).digest('base64url');
  }

  private checkCsrf(uid: string, req: Request): void {
    const presented = Buffer.from(String((req.body as Record<string, unknown> | undefined)?.csrf ?? ''));
    const expected = Buffer.from(this.csrfToken(uid));
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      this.audit.record({ kind: 'auth_failure', outcome: 'rejected', authMethod: 'oauth_login', errorCode: 'csrf', detail: { reason: 'csrf token mismatch' } });
      throw new PageError(403, 'Request refused', 'This form has expired or did not come from this page: start again from the application.');
    }
  }

  private async clientName(clientId: string): Promise<string> {
    const client = await this.server.provider.Client.find(clientId).catch(() => undefined);
    const name = client?.metadata().client_name;
    return typeof name === 'string' && name.trim() ? name.trim().slice(0, 100) : clientId;
  }

  private async loginView(details: Details) {
    return {
      uid: details.uid,
      csrf: this.csrfToken(details.uid),
      clientName: await this.clientName(String(details.params.client_id)),
      passwords: this.accounts.passwords,
    };
  }

  private async consentView(details: Details) {
    const principal = await this.account(details.session!.accountId);
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
    const scopes = [...new Set([...(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()])];
    return {
      uid: details.uid,
      csrf: this.csrfToken(details.uid),
      clientId: String(details.params.client_id),
      clientName: await this.clientName(String(details.params.client_id)),
      redirectUri: String(details.params.redirect_uri),
      scopes,
      account: principal.displayName,
    };
  }

  private async account(accountId: string): Promise<Principal> {
    const principal = await this.accounts.findAccount(accountId);
    if (!principal) throw new PageError(403, 'Sign-in cannot continue', 'Your account is no longer active.');
    return principal;
  }

  private send(res: Response, status: number, body: string): void {
    res.status(status).set(PAGE_HEADERS).send(body);
  }

  private async handle(res: Response, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      if (res.headersSent) return;
      if (e instanceof PageError) {
        if (e.retryAfterSeconds) res.setHeader('Retry-After', String(e.retryAfterSeconds));
        return this.send(res, e.status, messagePage(e.title, e.message));
      }
      this.logger.error({ err: e }, 'login or consent page failed');
      this.send(res, 500, messagePage('Something went wrong', 'The sign-in could not be completed: try again.'));
    }
  }
}
