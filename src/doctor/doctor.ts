import { createHash, randomBytes } from 'node:crypto';
import { type HttpAnswer, DoctorClient, HeadersTimeout } from './doctor-client';
import { type CheckResult, type DoctorReport, summarize } from './doctor-report';
import { initializeRequest, jsonRpcAnswer, LEGACY, MODERN, modernRequest, POST_HEADERS, sessionMessage } from './mcp-messages';

/** The callbacks claude.ai uses (claude.com for forward compatibility). */
export const CLAUDE_CALLBACKS = ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'];

export interface DoctorOptions {
  /** The MCP endpoint as clients are given it, e.g. https://mcp.example.com/mcp. */
  url: string;
  /** Credential headers (Authorization, X-API-Key) and any extra headers, sent with the MCP checks only. */
  headers?: Record<string, string>;
  /** The status port's base URL (http://127.0.0.1:39128): its readiness is checked when given. */
  statusUrl?: string;
  caFiles?: string[];
  insecure?: boolean;
  /** Also hold an SSE stream open for `idleSeconds` (> 60: proxies' default read timeout). */
  idleStream?: boolean;
  idleSeconds?: number;
  timeoutMs?: number;
  /** The longest wait for the first SSE event before the stream counts as buffered. */
  sseWithinMs?: number;
  /** Reported in the client info and the User-Agent. */
  version?: string;
}

/** A certificate this close to expiry is a warning: renewal is not working. */
const EXPIRY_WARNING_DAYS = 14;
const DAY = 86_400_000;

/** The URL without fragment and trailing slash: what `resource` and the token audience must equal. */
export function canonicalUrl(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.href.replace(/\/+$/, '');
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The auth-params of a `WWW-Authenticate` value that matter here. */
export function parseChallenge(value: string | undefined): { bearer: boolean; resourceMetadata?: string; scope?: string; error?: string } {
  if (!value) return { bearer: false };
  const param = (name: string) => new RegExp(`${name}="([^"]*)"`, 'i').exec(value)?.[1];
  return { bearer: /(^|,\s*)Bearer\b/i.test(value), resourceMetadata: param('resource_metadata'), scope: param('scope'), error: param('error') };
}

/** RFC 9728 §3.1: the metadata URL of a resource, path form (`/.well-known/oauth-protected-resource/mcp`). */
export function protectedResourceUrls(resource: string): { pathForm: string; rootForm: string } {
  const u = new URL(resource);
  const path = u.pathname === '/' ? '' : u.pathname;
  return { pathForm: `${u.origin}/.well-known/oauth-protected-resource${path}`, rootForm: `${u.origin}/.well-known/oauth-protected-resource` };
}

/** Where an issuer's metadata may be, in the order MCP clients try them (RFC 8414 path insertion, then OIDC both ways). */
export function authorizationServerMetadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return [
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
    `${u.origin}/.well-known/openid-configuration${path}`,
    ...(path ? [`${u.origin}${path}/.well-known/openid-configuration`] : []),
  ];
}

/** A network failure, in words an operator acts on. */
function networkHint(e: unknown): { detail: string; hint: string } {
  const err = e as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = err.code ?? err.cause?.code ?? '';
  const message = err.cause?.message ?? err.message ?? String(e);
  if (code === 'ECONNREFUSED') return { detail: `connection refused (${message})`, hint: 'nothing listens there: is nginx (or Portico) running, and the port published?' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { detail: `host not found (${message})`, hint: 'the DNS name does not resolve: check the A/AAAA record' };
  if (/CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS/.test(code) || /certificate/i.test(message))
    return { detail: `TLS refused: ${message}`, hint: 'the certificate is not trusted here: see the tls check (for a private CA pass --ca FILE)' };
  if (/TIMEOUT|ETIMEDOUT|AbortError|TimeoutError/i.test(code + (err as Error).name + message))
    return { detail: `timed out (${message})`, hint: 'a firewall drops the traffic, or the proxy waits on an upstream that does not answer' };
  return { detail: message, hint: 'see the error; run with a shorter URL first (the host root) to see what answers' };
}

function statusLine(a: HttpAnswer): string {
  return `${a.status}${a.headers['content-type'] ? ` (${a.headers['content-type'].split(';')[0]})` : ''}`;
}

/** A 403 from Portico's Host check names the header; other 403s are a WAF's or a proxy's. */
function hostRefusal(a: HttpAnswer): boolean {
  return a.status === 403 && /host/i.test(a.body) && /not allowed|invalid host/i.test(a.body);
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/**
 * Checks a deployed Portico the way claude.ai and other clients will use it:
 * TLS, the exact /mcp path without redirects, the 401 challenge, OAuth
 * discovery and a dynamic registration, both protocol eras, an unbuffered SSE
 * stream (and optionally one that stays open past 60 s), `tools/list` with the
 * given credentials, and readiness on the status port. Never throws for what it
 * finds: each finding is a {@link CheckResult} with a fix hint.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const started = Date.now();
  const client = new DoctorClient({ caFiles: options.caFiles, insecure: options.insecure, timeoutMs: options.timeoutMs, userAgent: `portico-doctor/${options.version ?? '0'}` });
  try {
    const checks = await new Doctor(options, client).run();
    return summarize(options.url, checks, Date.now() - started);
  } finally {
    await client.close();
  }
}

class Doctor {
  private readonly url: URL;
  private readonly resource: string;
  private readonly credentials: Record<string, string>;
  private readonly hasCredentials: boolean;
  private readonly results: CheckResult[] = [];
  private prm?: Record<string, unknown>;
  private challengeScope?: string;
  private asMetadata?: Record<string, unknown>;

  constructor(
    private readonly options: DoctorOptions,
    private readonly client: DoctorClient,
  ) {
    this.url = new URL(options.url);
    this.resource = canonicalUrl(options.url);
    this.credentials = options.headers ?? {};
    this.hasCredentials = Object.keys(this.credentials).some((h) => /^(authorization|x-api-key)$/i.test(h));
  }

  async run(): Promise<CheckResult[]> {
    await this.step('tls', 'TLS certificate', this.url.protocol === 'https:' || !isLoopbackHost(this.url.hostname), () => this.tls());
    const reached = await this.endpoint();
    if (reached) {
      await this.step('protected-resource-metadata', 'OAuth protected-resource metadata (RFC 9728)', true, () => this.protectedResourceMetadata());
      await this.authorizationServer();
      await this.step('modern-discover', 'modern era: server/discover', this.hasCredentials, () => this.modernDiscover());
      await this.step('legacy-initialize', 'legacy era: initialize and a session', this.hasCredentials, () => this.legacyInitialize());
      await this.step('tools-list', 'tools/list with the credentials', this.hasCredentials, () => this.toolsList());
      await this.step('sse-unbuffered', 'SSE events arrive unbuffered', this.hasCredentials, () => this.sseUnbuffered());
      if (this.options.idleStream) await this.step('idle-stream', `an idle SSE stream survives ${this.idleSeconds} s`, true, () => this.idleStream());
      else this.skip('idle-stream', 'an idle SSE stream survives past 60 s', 'not run (slow): add --idle-stream');
    }
    if (this.options.statusUrl) await this.step('status-health', 'readiness on the status port', true, () => this.statusHealth());
    else this.skip('status-health', 'readiness on the status port', 'not run: pass --status-url http://127.0.0.1:39128 where the status port is reachable');
    return this.results;
  }

  private get idleSeconds(): number {
    return this.options.idleSeconds ?? 75;
  }

  private add(id: string, title: string, required: boolean, status: CheckResult['status'], detail: string, hint?: string) {
    this.results.push({ id, title, required, status, detail, ...(hint ? { hint } : {}) });
  }

  private skip(id: string, title: string, detail: string) {
    this.add(id, title, false, 'skip', detail);
  }

  /** Runs one check; a network error becomes its failure. Checks that need credentials are skipped without them. */
  private async step(id: string, title: string, applies: boolean, body: () => Promise<Omit<CheckResult, 'id' | 'title' | 'required'> & { required?: boolean }>) {
    if (!applies) {
      const why =
        id === 'tls'
          ? `plain http on loopback: fine for a local test; claude.ai needs a public https URL`
          : 'not run: pass credentials (--token, --basic or --header) to check the MCP methods';
      return this.skip(id, title, why);
    }
    try {
      const r = await body();
      this.add(id, title, r.required ?? true, r.status, r.detail, r.hint);
    } catch (e) {
      const { detail, hint } = networkHint(e);
      this.add(id, title, true, 'fail', detail, hint);
    }
  }

  // --- TLS -------------------------------------------------------------------------------

  private async tls() {
    if (this.url.protocol !== 'https:') {
      return {
        status: 'fail' as const,
        detail: `${this.url.origin} is plain http on a public name`,
        hint: 'serve it over https (nginx/portico.conf with a Let\'s Encrypt certificate): claude.ai refuses http, and tokens would cross the network in clear',
      };
    }
    const port = Number(this.url.port || 443);
    const facts = await this.client.tls(this.url.hostname, port);
    const daysLeft = Math.floor((facts.validTo.getTime() - Date.now()) / DAY);
    const what = `certificate for ${facts.subject} by ${facts.issuer}, valid until ${facts.validTo.toISOString().slice(0, 10)} (${daysLeft} days), ${facts.protocol}`;
    if (!facts.trusted) {
      return {
        status: 'fail' as const,
        detail: `${what}: not trusted (${facts.trustError})`,
        hint: 'use a certificate from a public CA (certbot: see docs/deploy.md), with the full chain (fullchain.pem, not cert.pem); for a private CA pass --ca FILE',
      };
    }
    if (!facts.nameMatches) return { status: 'fail' as const, detail: `${what}: ${facts.nameError}`, hint: `get a certificate for ${this.url.hostname} (certbot -d ${this.url.hostname})` };
    if (facts.validTo.getTime() < Date.now() || facts.validFrom.getTime() > Date.now())
      return { status: 'fail' as const, detail: `${what}: not valid now`, hint: 'renew it: docker compose run --rm certbot renew, then reload nginx' };
    if (facts.protocol !== 'TLSv1.3' && facts.protocol !== 'TLSv1.2')
      return { status: 'fail' as const, detail: `${what}: outdated protocol`, hint: 'ssl_protocols TLSv1.2 TLSv1.3;' };
    if (daysLeft < EXPIRY_WARNING_DAYS)
      return { status: 'warn' as const, detail: `${what}: expires soon`, hint: 'renewal is not working: check the certbot service\'s log (certbot renews 30 days ahead)' };
    return { status: 'pass' as const, detail: what };
  }

  // --- /mcp: no redirect, the 401 challenge, security headers ------------------------------------

  /** POST /mcp without credentials: no redirect, 401 with a Bearer challenge naming resource_metadata. */
  private async endpoint(): Promise<boolean> {
    const ping = { headers: { ...POST_HEADERS }, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }) };
    let answer: HttpAnswer;
    try {
      answer = await this.client.fetch(this.resource, { method: 'POST', ...ping });
    } catch (e) {
      const { detail, hint } = networkHint(e);
      this.add('no-redirect', `POST ${this.url.pathname} is answered without a redirect`, true, 'fail', `POST ${this.resource}: ${detail}`, hint);
      this.skip('auth-challenge', 'unauthenticated POST gets 401 with resource_metadata', 'not run: the endpoint did not answer');
      return false;
    }
    const path = new URL(this.resource).pathname;
    const title = `POST ${path} is answered without a redirect`;
    if (answer.status >= 300 && answer.status < 400) {
      this.add(
        'no-redirect',
        title,
        true,
        'fail',
        `POST ${path} answered ${answer.status} → ${answer.headers.location ?? '(no Location)'}`,
        answer.headers.location?.endsWith(`${path}/`)
          ? `nginx: use \`location = ${path}\` (exact); a prefix \`location ${path}/\` answers ${path} with a 301, and clients do not repeat a POST (nor its Mcp-Session-Id) after a redirect`
          : answer.headers.location?.startsWith('https:') && this.url.protocol === 'http:'
            ? `use the https URL (${answer.headers.location.replace(/\/$/, '')})`
            : 'serve the endpoint at this exact URL: clients do not follow redirects with the POST body',
      );
    } else if (answer.status === 404 || answer.status === 405) {
      this.add('no-redirect', title, true, 'fail', `POST ${path} answered ${statusLine(answer)}`, `the proxy does not pass ${path} to Portico: add \`location = ${path}\` (nginx/portico.conf)`);
    } else if (answer.status >= 500) {
      this.add('no-redirect', title, true, 'fail', `POST ${path} answered ${statusLine(answer)}`, answer.status === 502 || answer.status === 504 ? 'the proxy cannot reach Portico: check the upstream address (PORTICO_UPSTREAM) and that Portico runs (docker compose ps)' : 'Portico failed: see its log');
    } else {
      const slash = await this.client.fetch(`${this.resource}/`, { method: 'POST', ...ping }).catch(() => undefined);
      if (slash && slash.status >= 300 && slash.status < 400) {
        this.add('no-redirect', title, false, 'warn', `POST ${path} answered ${answer.status}, but ${path}/ answered ${slash.status} → ${slash.headers.location}`, `clients given ${path}/ break: pass ${path}/ to Portico as it is (nginx/portico.conf does), never redirect`);
      } else {
        this.add('no-redirect', title, true, 'pass', `POST ${path} → ${answer.status}${slash ? `, POST ${path}/ → ${slash.status}` : ''}, no redirect`);
      }
    }
    if (answer.status >= 300 && answer.status < 400) {
      this.skip('auth-challenge', 'unauthenticated POST gets 401 with resource_metadata', 'not run: the endpoint redirects');
      return false;
    }
    this.challenge(answer);
    this.securityHeaders(answer);
    return answer.status < 500 && answer.status !== 404;
  }

  private challenge(answer: HttpAnswer) {
    const title = 'unauthenticated POST gets 401 with resource_metadata';
    const www = answer.headers['www-authenticate'];
    const c = parseChallenge(www);
    if (hostRefusal(answer)) {
      return this.add('auth-challenge', title, true, 'fail', `403: ${answer.body.slice(0, 160)}`, `Portico refuses the Host header: add ${this.url.hostname} to ALLOWED_HOSTS, and have the proxy pass Host (proxy_set_header Host $host)`);
    }
    if (answer.status === 200 || answer.status === 202) {
      return this.add('auth-challenge', title, true, 'fail', `answered ${answer.status} without credentials: anyone can call the tools`, 'turn auth on (unset AUTH_DISABLED; configure AUTH_TOKENS_FILE, API keys or OAuth)');
    }
    if (answer.status !== 401) return this.add('auth-challenge', title, true, 'fail', `answered ${statusLine(answer)}, not 401`, 'something in front of Portico answers instead of it (a WAF, the proxy\'s own auth): let POST /mcp through unauthenticated, Portico challenges itself');
    if (!c.bearer || !c.resourceMetadata) {
      return this.add('auth-challenge', title, true, 'fail', `401 with WWW-Authenticate: ${www ?? '(none)'}`, 'the 401 comes from the proxy, not Portico (no resource_metadata): remove auth_basic / auth_request from the /mcp location');
    }
    this.challengeScope = c.scope;
    this.add('auth-challenge', title, true, 'pass', `401, Bearer resource_metadata="${c.resourceMetadata}"${c.scope ? ` scope="${c.scope}"` : ''}`);
    const expected = protectedResourceUrls(this.resource).pathForm;
    if (c.resourceMetadata !== expected) {
      this.results[this.results.length - 1] = {
        ...this.results[this.results.length - 1],
        status: 'fail',
        detail: `401 names resource_metadata="${c.resourceMetadata}", expected ${expected}`,
        hint: `set PUBLIC_BASE_URL=${this.url.origin}${new URL(this.resource).pathname.replace(/\/mcp$/, '')} (the URL clients use), and TRUST_PROXY=1 behind a proxy`,
      };
    }
  }

  private securityHeaders(answer: HttpAnswer) {
    const title = 'security headers (HSTS, nosniff)';
    if (this.url.protocol !== 'https:') return this.skip('security-headers', title, 'not applicable to plain http');
    const missing = [
      ...(answer.headers['strict-transport-security'] ? [] : ['Strict-Transport-Security']),
      ...(/nosniff/i.test(answer.headers['x-content-type-options'] ?? '') ? [] : ['X-Content-Type-Options: nosniff']),
    ];
    if (missing.length) return this.add('security-headers', title, false, 'warn', `missing: ${missing.join(', ')}`, 'add them in the proxy\'s server block (nginx/portico.conf has them, with `always`)');
    this.add('security-headers', title, false, 'pass', `Strict-Transport-Security: ${answer.headers['strict-transport-security']}; X-Content-Type-Options: nosniff`);
  }

  // --- OAuth discovery --------------------------------------------------------------------

  private async protectedResourceMetadata() {
    const { pathForm, rootForm } = protectedResourceUrls(this.resource);
    const prefixed = new URL(this.resource).pathname !== '/mcp';
    const problems: string[] = [];
    const hints = new Set<string>();
    const seen: string[] = [];
    for (const [url, required] of [
      [pathForm, true],
      [rootForm, !prefixed],
    ] as const) {
      const a = await this.client.fetch(url, { headers: { accept: 'application/json' } });
      const doc = a.json as Record<string, unknown> | undefined;
      const where = new URL(url).pathname;
      if (a.status === 401 || a.status === 403) {
        problems.push(`${where}: ${a.status}${a.headers['www-authenticate'] ? ` (WWW-Authenticate: ${a.headers['www-authenticate']})` : ''}`);
        hints.add('/.well-known/ must be public: remove auth_basic / auth_request / IP rules from the proxy\'s `location ^~ /.well-known/` (clients read it before they have a token)');
      } else if (a.status !== 200 || !doc || typeof doc !== 'object') {
        if (required || a.status !== 404) problems.push(`${where}: ${statusLine(a)}`);
        else seen.push(`${where}: 404 (the site's root; optional under a path prefix)`);
        if (required) hints.add(a.status >= 300 && a.status < 400 ? 'do not redirect /.well-known/ paths' : 'pass /.well-known/ to Portico (nginx/portico.conf: location ^~ /.well-known/)');
      } else if (doc.resource !== this.resource) {
        problems.push(`${where}: resource is ${JSON.stringify(doc.resource)}, expected "${this.resource}"`);
        hints.add(`set PUBLIC_BASE_URL=${this.url.origin}${new URL(this.resource).pathname.replace(/\/mcp$/, '')}: the resource must be exactly the URL clients use, or OAuth "succeeds" and every call gets 401`);
      } else {
        this.prm ??= doc;
        seen.push(`${where}: 200, resource ok`);
      }
    }
    if (problems.length) return { status: 'fail' as const, detail: problems.join('; '), hint: [...hints].join('; ') };
    const servers = (this.prm?.authorization_servers as string[] | undefined) ?? [];
    return { status: 'pass' as const, detail: `${seen.join('; ')}; authorization_servers: ${servers.length ? servers.join(', ') : 'none'}` };
  }

  /** RFC 8414 metadata of the first advertised authorization server, then a registration round. */
  private async authorizationServer() {
    const metaTitle = 'authorization server metadata (RFC 8414)';
    const regTitle = 'dynamic client registration and authorize request';
    const servers = (this.prm?.authorization_servers as string[] | undefined) ?? [];
    if (!this.prm) {
      this.skip('authorization-server', metaTitle, 'not run: no protected-resource metadata');
      return this.skip('dynamic-registration', regTitle, 'not run: no protected-resource metadata');
    }
    if (!servers.length) {
      this.add(
        'authorization-server',
        metaTitle,
        false,
        'warn',
        'no authorization server advertised: static credentials only',
        'claude.ai connectors need OAuth: OAUTH_SERVER=builtin, or OAUTH_ISSUERS with your identity provider (docs/auth.md); Claude Code, Cursor, VS Code and the Inspector can send the token',
      );
      return this.skip('dynamic-registration', regTitle, 'not applicable: no authorization server');
    }
    await this.step('authorization-server', metaTitle, true, () => this.asMetadataCheck(servers[0]));
    if (!this.asMetadata) return this.skip('dynamic-registration', regTitle, 'not run: no authorization server metadata');
    if (!this.asMetadata.registration_endpoint) {
      return this.skip(
        'dynamic-registration',
        regTitle,
        this.asMetadata.client_id_metadata_document_supported === true ? 'no registration endpoint; claude.ai uses its Client ID Metadata Document' : 'no registration endpoint',
      );
    }
    await this.step('dynamic-registration', regTitle, true, () => this.registration());
  }

  private async asMetadataCheck(issuer: string) {
    const tried: string[] = [];
    let doc: Record<string, unknown> | undefined;
    let from = '';
    for (const url of authorizationServerMetadataUrls(issuer)) {
      const a = await this.client.fetch(url, { headers: { accept: 'application/json' } });
      tried.push(`${new URL(url).pathname} ${a.status}`);
      if (a.status === 200 && a.json && typeof a.json === 'object') {
        doc = a.json as Record<string, unknown>;
        from = new URL(url).pathname;
        break;
      }
    }
    if (!doc) {
      return {
        status: 'fail' as const,
        detail: `no metadata for issuer ${issuer} (${tried.join(', ')})`,
        hint: 'pass /.well-known/ to Portico unauthenticated (built-in server: OAUTH_SERVER=builtin), or fix OAUTH_ISSUERS to the IdP\'s exact issuer',
      };
    }
    const problems: string[] = [];
    const hints: string[] = [];
    if (doc.issuer !== issuer) {
      problems.push(`issuer is ${JSON.stringify(doc.issuer)}, not "${issuer}"`);
      hints.push('the issuer must match exactly (no trailing slash): PUBLIC_BASE_URL for the built-in server, OAUTH_ISSUERS for an IdP');
    }
    const methods = (doc.code_challenge_methods_supported as string[] | undefined) ?? [];
    if (!methods.includes('S256')) {
      problems.push('code_challenge_methods_supported lacks S256');
      hints.push('MCP clients refuse an authorization server without PKCE S256 in its metadata');
    }
    for (const key of ['authorization_endpoint', 'token_endpoint'] as const) {
      const v = doc[key];
      if (typeof v !== 'string') problems.push(`no ${key}`);
      else if (this.url.protocol === 'https:' && !v.startsWith('https:')) {
        problems.push(`${key} is ${v}`);
        hints.push('endpoints on http behind an https proxy: set PUBLIC_BASE_URL=https://… and TRUST_PROXY=1, and have nginx send X-Forwarded-Proto');
      }
    }
    if (problems.length) return { status: 'fail' as const, detail: `${from}: ${problems.join('; ')}`, hint: hints.join('; ') || 'fix the authorization server\'s configuration' };
    this.asMetadata = doc;
    const registration = doc.registration_endpoint ? 'dynamic registration' : '';
    const cimd = doc.client_id_metadata_document_supported === true ? 'Client ID Metadata Documents' : '';
    if (!registration && !cimd) {
      return {
        status: 'warn' as const,
        required: false,
        detail: `${from}: issuer ok, S256, but neither dynamic registration nor Client ID Metadata Documents`,
        hint: 'claude.ai users must then enter a pre-registered client id (with the claude.ai callback) under Advanced settings',
      };
    }
    return { status: 'pass' as const, detail: `${from}: issuer ${issuer}, S256, ${[registration, cimd].filter(Boolean).join(' and ')}` };
  }

  /** Registers a client the way claude.ai does (its callbacks, public client, PKCE), then starts an authorization with it. */
  private async registration() {
    const endpoint = String(this.asMetadata!.registration_endpoint);
    const reg = await this.client.fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        client_name: 'portico doctor (claude.ai-like registration)',
        redirect_uris: CLAUDE_CALLBACKS,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    });
    const client = reg.json as { client_id?: string; redirect_uris?: string[]; error?: string; error_description?: string } | undefined;
    if ((reg.status !== 201 && reg.status !== 200) || !client?.client_id) {
      return {
        status: 'fail' as const,
        detail: `POST ${new URL(endpoint).pathname} → ${reg.status}${client?.error ? ` ${client.error}: ${client.error_description ?? ''}` : ''}`,
        hint:
          reg.status === 429
            ? 'the registration rate limit is reached (OAUTH_SERVER_RATE_LIMITS register=…, nginx limit_req on /oauth/): claude.ai registers on every new connection'
            : 'the authorization server refuses a registration with the claude.ai callbacks: allow https://claude.ai/api/mcp/auth_callback (and claude.com)',
      };
    }
    const { challenge } = pkce();
    const authorize = new URL(String(this.asMetadata!.authorization_endpoint));
    const scope = this.challengeScope ?? (this.asMetadata!.scopes_supported as string[] | undefined)?.filter((s) => s !== 'openid').join(' ');
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLAUDE_CALLBACKS[0],
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: randomBytes(12).toString('base64url'),
      resource: this.resource,
      ...(scope ? { scope } : {}),
    }))
      authorize.searchParams.set(k, v);
    const a = await this.client.fetch(authorize.href, { headers: { accept: 'text/html' } });
    const location = a.headers.location ?? '';
    const registered = `registered ${client.client_id.slice(0, 12)}… with the claude.ai callbacks`;
    if (location.startsWith(CLAUDE_CALLBACKS[0])) {
      const back = new URL(location);
      const error = back.searchParams.get('error');
      if (error) {
        return {
          status: 'fail' as const,
          detail: `${registered}; authorize answered ${error}: ${back.searchParams.get('error_description') ?? ''}`,
          hint: error === 'invalid_target' ? `the authorization server refuses resource=${this.resource}: PUBLIC_BASE_URL (built-in server) or the IdP's API audience must be exactly it` : 'fix what the error names at the authorization server',
        };
      }
    }
    if ((a.status >= 300 && a.status < 400 && location) || (a.status === 200 && /<form|<html/i.test(a.body))) {
      return { status: 'pass' as const, detail: `${registered}; authorize (PKCE S256, resource) → ${a.status} ${location ? `to ${new URL(location, authorize).pathname.replace(/\/[^/]{16,}$/, '/…')}` : 'sign-in page'}` };
    }
    return {
      status: 'fail' as const,
      detail: `${registered}; authorize answered ${statusLine(a)}: ${a.body.replace(/\s+/g, ' ').slice(0, 160)}`,
      hint: 'the authorization endpoint refuses what claude.ai sends (redirect_uri, resource, PKCE): see the authorization server\'s log',
    };
  }

  // --- MCP, both eras -----------------------------------------------------------------------

  private async post(body: { headers: Record<string, string>; body: string }) {
    return this.client.fetch(this.resource, { method: 'POST', headers: { ...body.headers, ...this.credentials }, body: body.body });
  }

  /** A refused credential, explained. */
  private refused(a: HttpAnswer) {
    const c = parseChallenge(a.headers['www-authenticate']);
    return {
      status: 'fail' as const,
      detail: `${statusLine(a)}${c.error ? `, ${c.error}` : ''}: ${a.body.replace(/\s+/g, ' ').slice(0, 160)}`,
      hint:
        a.status === 401
          ? `the credential is refused: check the token (an OAuth token must be for ${this.resource}: aud = PUBLIC_BASE_URL + /mcp); the audit log's latest auth_failure row names the reason`
          : a.status === 429
            ? 'rate-limited: wait for Retry-After, or raise the limit'
            : 'see Portico\'s log for this request',
    };
  }

  private async modernDiscover() {
    const a = await this.post(modernRequest(1, 'server/discover'));
    if (a.status !== 200) return this.refused(a);
    const m = jsonRpcAnswer(a.body, a.headers['content-type'], 1);
    const versions = (m?.result?.supportedVersions as string[] | undefined) ?? [];
    if (!m?.result || !versions.includes(MODERN)) {
      return {
        status: 'fail' as const,
        detail: `server/discover answered ${m?.error ? `error ${m.error.code}: ${m.error.message}` : a.body.slice(0, 160)}`,
        hint: `the server does not speak ${MODERN}: claude.ai and Claude Code probe it first; upgrade Portico`,
      };
    }
    const info = (m.result._meta as Record<string, { name?: string; version?: string }> | undefined)?.['io.modelcontextprotocol/serverInfo'];
    return { status: 'pass' as const, detail: `supportedVersions ${versions.join(', ')}${info ? `; ${info.name} ${info.version}` : ''}` };
  }

  private async legacyInitialize() {
    const a = await this.post(initializeRequest(this.options.version ?? '0'));
    if (a.status !== 200) return this.refused(a);
    const m = jsonRpcAnswer(a.body, a.headers['content-type'], 1);
    const session = a.headers['mcp-session-id'];
    if (!m?.result) return { status: 'fail' as const, detail: `initialize answered ${m?.error ? `error ${m.error.code}: ${m.error.message}` : a.body.slice(0, 160)}`, hint: 'see Portico\'s log for this request' };
    if (!session) {
      return {
        status: 'fail' as const,
        detail: `initialize answered ${String(m.result.protocolVersion)} but no Mcp-Session-Id header`,
        hint: 'a proxy drops the Mcp-Session-Id response header: pass response headers unchanged (no proxy_hide_header Mcp-Session-Id)',
      };
    }
    const initialized = await this.post(sessionMessage(session, { method: 'notifications/initialized' }));
    const list = await this.post(sessionMessage(session, { id: 2, method: 'tools/list', params: {} }));
    const tools = jsonRpcAnswer(list.body, list.headers['content-type'], 2)?.result?.tools as unknown[] | undefined;
    await this.client.fetch(this.resource, { method: 'DELETE', headers: { ...this.credentials, 'mcp-session-id': session, 'mcp-protocol-version': LEGACY } }).catch(() => undefined);
    if (initialized.status !== 202 || !tools) {
      return {
        status: 'fail' as const,
        detail: `initialize ok (session ${session.slice(0, 8)}…), then notifications/initialized → ${initialized.status}, tools/list → ${list.status}`,
        hint: 'requests inside the session fail: a proxy drops the Mcp-Session-Id or MCP-Protocol-Version request header, or sessions are not shared between instances (REDIS_URL)',
      };
    }
    return { status: 'pass' as const, detail: `protocolVersion ${String(m.result.protocolVersion)}, session ${session.slice(0, 8)}…, ${tools.length} tools in the session, closed` };
  }

  private async toolsList() {
    const a = await this.post(modernRequest(3, 'tools/list'));
    if (a.status !== 200) return this.refused(a);
    const tools = jsonRpcAnswer(a.body, a.headers['content-type'], 3)?.result?.tools as { name: string }[] | undefined;
    if (!tools) return { status: 'fail' as const, detail: `tools/list answered ${a.body.slice(0, 160)}`, hint: 'see Portico\'s log for this request' };
    if (!tools.length) return { status: 'warn' as const, required: false, detail: 'no tools for this credential', hint: 'the credential\'s scopes allow no tool: grant scopes (portico keys create --scopes …)' };
    const names = tools.map((t) => t.name);
    return { status: 'pass' as const, detail: `${tools.length} tools: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}` };
  }

  /** `subscriptions/listen` answers with an acknowledgement event at once and stays open: the event must arrive at once here too. */
  private async openListen(headersTimeoutMs?: number) {
    const req = modernRequest(4, 'subscriptions/listen', { notifications: { toolsListChanged: true } });
    return this.client.stream(this.resource, { method: 'POST', headers: { ...req.headers, ...this.credentials }, body: req.body, headersTimeoutMs });
  }

  private async sseUnbuffered() {
    const within = this.options.sseWithinMs ?? 5000;
    const buffered = {
      status: 'fail' as const,
      hint: 'nginx: proxy_buffering off (and no proxy_ignore_headers X-Accel-Buffering, no gzip for text/event-stream) in the /mcp location; a CDN or load balancer: turn off buffering and compression for text/event-stream',
    };
    let stream;
    try {
      stream = await this.openListen(within);
    } catch (e) {
      if (e instanceof HeadersTimeout) {
        return { ...buffered, detail: `not even the response headers within ${within / 1000} s, on a stream whose first event Portico sends at once: something buffers it` };
      }
      throw e;
    }
    try {
      if (stream.status !== 200 || !stream.headers['content-type']?.includes('text/event-stream')) {
        return { status: 'fail' as const, detail: `subscriptions/listen answered ${stream.status} ${stream.headers['content-type'] ?? ''}`, hint: 'the server or the proxy does not stream: see Portico\'s log' };
      }
      const first = await stream.firstEvent(within);
      if (!first) return { ...buffered, detail: `no event within ${within / 1000} s on a stream whose first event Portico sends at once: something buffers it` };
      return { status: 'pass' as const, detail: `first event after ${first.latencyMs} ms, stream still open` };
    } finally {
      stream.close();
    }
  }

  private async idleStream() {
    const stream = await this.openListen();
    try {
      if (stream.status !== 200) return { status: 'fail' as const, detail: `subscriptions/listen answered ${stream.status}`, hint: 'see the sse-unbuffered check' };
      const r = await stream.staysOpen(this.idleSeconds * 1000);
      if (!r.open) {
        return {
          status: 'fail' as const,
          detail: `the stream ended after ${(r.afterMs / 1000).toFixed(1)} s: ${r.reason}`,
          hint: 'a proxy cuts idle streams: nginx proxy_read_timeout 3600s and proxy_send_timeout 3600s in the /mcp location (the default is 60 s); load balancers: raise the idle timeout',
        };
      }
      return { status: 'pass' as const, detail: `still open after ${this.idleSeconds} s` };
    } finally {
      stream.close();
    }
  }

  // --- status port ----------------------------------------------------------------------------

  private async statusHealth() {
    const base = this.options.statusUrl!.replace(/\/+$/, '');
    const a = await this.client.fetch(`${base}/health/ready`, { headers: { accept: 'application/json' } });
    const body = a.json as { status?: string; error?: Record<string, { message?: string }> } | undefined;
    if (a.status === 200) return { status: 'pass' as const, detail: `${base}/health/ready → 200 (${body?.status ?? '?'})` };
    const down = Object.entries(body?.error ?? {})
      .map(([k, v]) => `${k}${v?.message ? `: ${v.message}` : ''}`)
      .join('; ');
    return {
      status: 'fail' as const,
      detail: `${base}/health/ready → ${a.status}${down ? ` (down: ${down})` : ''}`,
      hint: 'a dependency is down (docs/operations.md, Readiness): docker compose ps, then the named service\'s log',
    };
  }
}
