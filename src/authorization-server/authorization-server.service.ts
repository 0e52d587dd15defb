import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { JSONWebKeySet } from 'jose';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { LocalIssuer } from '../auth/oauth/local-issuer';
import { ProtectedResourceService } from '../auth/protected-resource.service';
import { APP_CONFIG, type AppConfig, type RateLimitKind } from '../config/app-config';
import { ACCOUNT_VERIFIER, type AccountVerifier } from './account-verifier';
import { GrantsService } from './grants.service';
import { messagePage, PAGE_HEADERS } from './interaction.views';
import { type KeySet, KeyStoreService } from './key-store.service';
import { OidcPayloadAdapter, purgeExpiredPayloads } from './oidc-payload.adapter';
import { RATE_LIMITER, type RateLimiter } from './rate-limiter';
import { redirectUriAllowedBeyondExact } from './redirect-uri';

type OidcModule = typeof import('oidc-provider');
type ProviderInstance = InstanceType<OidcModule['Provider']>;

/**
 * Injection token of a `fetch` for Client ID Metadata Documents replacing
 * oidc-provider's SSRF-guarded one (which refuses loopback and private
 * addresses). For tests serving a document on 127.0.0.1 only: provided by a
 * global test module, never by the app.
 */
export const CIMD_FETCH = Symbol('CIMD_FETCH');
export type CimdFetch = (url: URL | string, init: RequestInit & { dispatcher?: unknown }) => Promise<Response | globalThis.Response>;

/**
 * Granted to every client that is authorized at all, whatever else it asks
 * for: the consent to use Portico's tools (those that declare no scope). Every
 * authorization then has a scope to consent to, so the consent page is never
 * skipped, and a request without `scope` gets this plus the default scopes.
 */
export const BASE_SCOPE = 'mcp';
const CLIENT_SCOPE_HOOK = 'x_portico_scope_hook';
const KEY_RELOAD_MS = 60_000;
const PURGE_EVERY_MS = 10 * 60_000;
/** What the provider serves: its own routes, and the metadata at the root well-known paths. */
const PROVIDER_PATH = /^\/(oauth\/|\.well-known\/(oauth-authorization-server|openid-configuration)(\/|$))/;

/** The built-in server's routes, all under `/oauth`; the metadata stays at the root well-known paths (RFC 8414). */
const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  jwks: '/oauth/jwks',
  registration: '/oauth/register',
  revocation: '/oauth/revoke',
  end_session: '/oauth/logout',
  userinfo: '/oauth/userinfo',
  introspection: '/oauth/introspect',
  pushed_authorization_request: '/oauth/par',
  code_verification: '/oauth/device',
  device_authorization: '/oauth/device/auth',
  backchannel_authentication: '/oauth/backchannel',
  challenge: '/oauth/challenge',
  credential: '/oauth/credential',
};

/**
 * The built-in OAuth 2.1 authorization server (`OAUTH_SERVER=builtin`) on
 * oidc-provider: RFC 8414 metadata with `iss` in authorization responses,
 * authorization code + PKCE S256 only, dynamic client registration (public
 * clients by default) and Client ID Metadata Documents, exact redirect URIs
 * except loopback ports (RFC 8252), resource-bound ES256 JWT access tokens for
 * `<PUBLIC_BASE_URL>/mcp`, rotating refresh tokens with a grace window,
 * revocation, and every artefact in the database. Mounted as express
 * middleware before the body parser (oidc-provider reads the raw body), with
 * a per-IP rate limit in front. Its issuer is the base URL, so the resource
 * server trusts it like any other issuer, reading its keys here ({@link LocalIssuer}).
 */
@Injectable()
export class AuthorizationServerService implements LocalIssuer, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuthorizationServer');
  private keys?: KeySet;
  private built?: { provider: ProviderInstance; fingerprint: string; issuer: string; callback: ReturnType<ProviderInstance['callback']> };
  private timers: NodeJS.Timeout[] = [];
  private readonly forms = express.urlencoded({ extended: false, limit: '16kb' });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DataSource,
    private readonly keyStore: KeyStoreService,
    private readonly resource: ProtectedResourceService,
    private readonly grants: GrantsService,
    private readonly audit: AuditService,
    @Inject(ACCOUNT_VERIFIER) private readonly accounts: AccountVerifier,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
    @Optional() @Inject(CIMD_FETCH) private readonly cimdFetch?: CimdFetch,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.keys = await this.keyStore.load();
    const every = (ms: number, work: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => void work().catch((e: unknown) => this.logger.error({ err: e }, `${what} failed`)), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(KEY_RELOAD_MS, () => this.reloadKeys(), 'reloading the signing keys');
    every(PURGE_EVERY_MS, () => purgeExpiredPayloads(this.db), 'purging expired authorization server rows');
  }

  onApplicationShutdown(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
  }

  /** Reads the keys again (another instance may have rotated); the provider is rebuilt on its next request when they changed. */
  async reloadKeys(): Promise<void> {
    this.keys = await this.keyStore.load();
  }

  /** The issuer: the base URL (`PUBLIC_BASE_URL`, else `http://HOST:PORT`), without a trailing slash. */
  get issuer(): string {
    return this.resource.baseUrl;
  }

  /** {@link LocalIssuer}: the published keys, for the resource server in this process. */
  jwks(): JSONWebKeySet {
    return this.keySet.publicJwks as JSONWebKeySet;
  }

  /** {@link LocalIssuer}: revoked grants stop their access tokens at once on this instance, within ten seconds on the others. */
  grantActive(grantId: string): Promise<boolean> {
    return this.grants.isActive(grantId);
  }

  /** The provider for the current issuer and keys (built on first use: with PORT=0 the issuer is known only once listening). */
  get provider(): ProviderInstance {
    return this.current().provider;
  }

  private current(): NonNullable<AuthorizationServerService['built']> {
    const keys = this.keySet;
    if (!this.built || this.built.fingerprint !== keys.fingerprint || this.built.issuer !== this.issuer) {
      const provider = this.build(keys);
      this.built = { provider, fingerprint: keys.fingerprint, issuer: this.issuer, callback: provider.callback() };
    }
    return this.built;
  }

  /**
   * The express middleware mounted before the body parser: rate limits, then
   * the provider for `/oauth/*` and the metadata; a form body parser for the
   * login and consent pages (`/interaction/*`, served by Nest).
   */
  middleware(): RequestHandler {
    const prefix = new URL(this.resource.baseUrl).pathname.replace(/\/$/, '');
    return (req: Request, res: Response, next: NextFunction) => {
      let path = req.path;
      // Behind a proxy serving Portico under a prefix, RFC 8414 puts the metadata at /.well-known/oauth-authorization-server/<prefix>.
      if (prefix && path.startsWith('/.well-known/') && path.endsWith(prefix)) path = path.slice(0, -prefix.length);
      if (path.startsWith('/interaction/')) return req.method === 'POST' ? this.forms(req, res, next) : next();
      if (!PROVIDER_PATH.test(path)) return next();
      const kind = rateLimitKind(req.method, path);
      if (kind) {
        const verdict = this.limiter.hit(`${kind}:${req.ip}`, this.config.authorizationServer.rateLimits[kind]);
        if (!verdict.allowed) return tooManyRequests(res, verdict.retryAfterSeconds);
      }
      const { callback } = this.current();
      if (path !== req.path) req.url = path + req.url.slice(req.path.length);
      if (path === ROUTES.authorization && req.method === 'GET') this.defaultScope(req);
      // oidc-provider builds its URLs from the request's origin and this mount path.
      (req as { baseUrl: string }).baseUrl = prefix;
      void callback(req, res);
    };
  }

  /**
   * RFC 6749 §3.3: a request without `scope` is served with a default, the
   * scopes a 401 challenge names (OAUTH_SCOPES, else every scope the tools
   * declare) plus {@link BASE_SCOPE}; `mcp` joins any other request.
   */
  private defaultScope(req: Request): void {
    const url = new URL(req.url, 'http://portico');
    const requested = (url.searchParams.get('scope') ?? '').split(' ').filter(Boolean);
    const scopes = requested.length ? requested : this.resource.challengeScopes();
    if (requested.includes(BASE_SCOPE) && requested.length) return;
    url.searchParams.set('scope', [BASE_SCOPE, ...scopes.filter((s) => s !== BASE_SCOPE)].join(' '));
    req.url = url.pathname + url.search;
  }

  private get keySet(): KeySet {
    if (!this.keys) throw new Error('the authorization server keys are not loaded yet');
    return this.keys;
  }

  private build(keys: KeySet): ProviderInstance {
    // Loaded on first use only: nothing of it runs while OAUTH_SERVER is off.
    const { Provider, errors } = require('oidc-provider') as OidcModule;
    const as = this.config.authorizationServer;
    const resourceUrl = this.resource.resourceUrl;
    const scopes = [BASE_SCOPE, ...this.resource.scopesSupported().filter((s) => s !== BASE_SCOPE)];
    const prefix = new URL(this.issuer).pathname.replace(/\/$/, '');

    const configuration: Configuration = {
      adapter: (name: string) => new OidcPayloadAdapter(name, this.db, { refreshGraceMs: as.refreshGraceSeconds * 1000 }),
      jwks: { keys: keys.signing as NonNullable<Configuration['jwks']>['keys'] },
      cookies: {
        keys: keys.cookieKeys,
        long: { signed: true, httpOnly: true, sameSite: 'lax' },
        short: { signed: true, httpOnly: true, sameSite: 'lax' },
      },
      routes: ROUTES,
      responseTypes: ['code'],
      pkce: { required: () => true },
      scopes,
      clientDefaults: {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: 'ES256',
      },
      features: {
        devInteractions: { enabled: false },
        registration: { enabled: true },
        revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
        userinfo: { enabled: false },
        introspection: { enabled: false },
        rpInitiatedLogout: { enabled: false },
        clientIdMetadataDocument: {
          enabled: true,
          ack: 'draft-02',
          allowFetch: async () => true,
          cacheDuration: { min: 300, max: 86_400 },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => resourceUrl,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx, indicator) => {
            if (indicator !== resourceUrl) throw new errors.InvalidTarget(`this server issues tokens for ${resourceUrl} only`);
            return {
              scope: scopes.join(' '),
              audience: resourceUrl,
              accessTokenTTL: as.accessTokenTtlSeconds,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'ES256', kid: keys.current.kid } },
            };
          },
        },
      },
      // A client that registers a `scope` allow-list may always have the base scope too (the hook property is never kept).
      extraClientMetadata: {
        properties: [CLIENT_SCOPE_HOOK],
        validator: (_ctx, key, _value, metadata) => {
          delete (metadata as Record<string, unknown>)[key];
          const scope = typeof metadata.scope === 'string' ? metadata.scope.split(' ').filter(Boolean) : [];
          if (scope.length && !scope.includes(BASE_SCOPE)) metadata.scope = [BASE_SCOPE, ...scope].join(' ');
        },
      },
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: true,
      extraTokenClaims: async (_ctx, token) => (token.kind === 'AccessToken' && token.grantId ? { grant_id: token.grantId } : undefined),
      loadExistingGrant: async (ctx) => {
        const { client, session, result } = ctx.oidc;
        const grantId =
          (result?.consent as { grantId?: string } | undefined)?.grantId ??
          session?.grantIdFor(client!.clientId) ??
          (session?.accountId ? await this.grants.findFor(session.accountId, client!.clientId) : undefined);
        return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
      },
      interactions: { url: async (_ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
      findAccount: async (_ctx, sub) => {
        const principal = await this.accounts.findAccount(sub);
        return principal ? { accountId: sub, claims: async () => ({ sub, name: principal.displayName }) } : undefined;
      },
      ttl: {
        AccessToken: as.accessTokenTtlSeconds,
        AuthorizationCode: 60,
        Grant: as.refreshTokenTtlSeconds,
        IdToken: 600,
        Interaction: 600,
        RefreshToken: as.refreshTokenTtlSeconds,
        Session: 8 * 60 * 60,
        RegistrationAccessToken: as.refreshTokenTtlSeconds,
      },
      clientBasedCORS: (_ctx, origin, client) => corsAllowed(origin, client.redirectUris ?? []),
      renderError: async (ctx, out) => {
        for (const [name, value] of Object.entries(PAGE_HEADERS)) ctx.set(name, value);
        ctx.body = messagePage('Sign-in cannot continue', out.error_description ?? out.error);
      },
      ...(this.cimdFetch && { fetch: this.cimdFetch as Configuration['fetch'] }),
    };

    const provider = new Provider(this.issuer, configuration);
    provider.proxy = this.config.http.trustProxy > 0;
    // RFC 8252: loopback redirects on any port; Claude's two callbacks interchangeable.
    const exact = provider.Client.prototype.redirectUriAllowed;
    provider.Client.prototype.redirectUriAllowed = function (this: { redirectUris?: string[] }, uri: string) {
      return exact.call(this, uri) || redirectUriAllowedBeyondExact(uri, this.redirectUris ?? []);
    };
    // RFC 7591 defaults a missing token_endpoint_auth_method to client_secret_basic; ours is `none`
    // (clientDefaults), so a registration without one must not be issued a secret it would never use.
    const client = provider.Client as unknown as { needsSecret(metadata: ClientMetadata): boolean };
    const needsSecret = client.needsSecret.bind(client);
    client.needsSecret = (metadata) => needsSecret({ ...metadata, token_endpoint_auth_method: metadata.token_endpoint_auth_method ?? 'none' });
    this.listen(provider);
    this.logger.log({ issuer: this.issuer, kid: keys.current.kid }, 'built-in authorization server ready');
    return provider;
  }

  /** Audit trail: registrations, token failures, authorization failures, revoked grants. */
  private listen(provider: ProviderInstance): void {
    provider.on('registration_create.success', (_ctx: KoaContextWithOIDC, client: { clientId: string; metadata(): ClientMetadata }) => {
      const metadata = client.metadata();
      this.audit.record({
        kind: 'oauth_client_registered',
        outcome: 'ok',
        clientName: typeof metadata.client_name === 'string' ? metadata.client_name.slice(0, 200) : undefined,
        detail: { clientId: client.clientId, redirectUris: metadata.redirect_uris, tokenEndpointAuthMethod: metadata.token_endpoint_auth_method },
      });
    });
    provider.on('registration_create.error', (_ctx: KoaContextWithOIDC, err: OidcError) =>
      this.audit.record({ kind: 'oauth_client_registered', outcome: 'rejected', errorCode: err.error, errorMessage: err.error_description }),
    );
    const refused = (err: OidcError, detail: Record<string, unknown>) =>
      this.audit.record({ kind: 'auth_failure', outcome: 'rejected', authMethod: 'oauth_server', errorCode: err.error, errorMessage: err.error_description, detail });
    provider.on('grant.error', (ctx: KoaContextWithOIDC, err: OidcError) =>
      refused(err, { endpoint: 'token', grantType: ctx.oidc?.params?.grant_type, clientId: ctx.oidc?.client?.clientId }),
    );
    provider.on('authorization.error', (ctx: KoaContextWithOIDC, err: OidcError) =>
      refused(err, { endpoint: 'authorize', clientId: ctx.oidc?.params?.client_id }),
    );
    provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
      this.grants.forget(grantId);
      const reused = ctx.oidc?.route === 'token';
      this.audit.record({
        kind: 'consent_revoked',
        outcome: 'ok',
        principalId: ctx.oidc?.entities?.RefreshToken?.accountId,
        authMethod: 'oauth_server',
        detail: { grantId, clientId: ctx.oidc?.client?.clientId, via: reused ? 'refresh_token_reuse' : 'revocation' },
      });
    });
    provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) => this.logger.error({ err }, 'authorization server error'));
  }

  /** Records a consent given on the consent page. */
  consentGiven(principal: Principal, detail: Record<string, unknown>): void {
    this.audit.record({ kind: 'consent_given', outcome: 'ok', principalId: principal.id, authMethod: 'oauth_server', detail });
  }
}

interface OidcError {
  error: string;
  error_description?: string;
}

function rateLimitKind(method: string, path: string): RateLimitKind | undefined {
  if (method === 'POST' && path === ROUTES.registration) return 'register';
  if (method === 'POST' && path === ROUTES.token) return 'token';
  if (path === ROUTES.authorization) return 'authorize';
  return undefined;
}

function tooManyRequests(res: Response, retryAfterSeconds: number): void {
  res
    .status(429)
    .set('Retry-After', String(retryAfterSeconds))
    .set('Cache-Control', 'no-store')
    .json({ error: 'too_many_requests', error_description: `Too many requests: retry in ${retryAfterSeconds} s` });
}

/** Browser clients may call the token and revocation endpoints from the origins of their redirect URIs. */
function corsAllowed(origin: string, redirectUris: readonly string[]): boolean {
  return redirectUris.some((uri) => URL.parse(uri)?.origin === origin);
}
