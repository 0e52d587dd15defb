import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parsePasswordHash } from '../auth/password-hash';
import { ConfigError } from './config.error';
import type { z } from 'zod';
import { Env, envSchema } from './config.schema';
import { type NetRules, parseNetRules } from './net-rules';

/** A static bearer token from `AUTH_TOKENS` / `AUTH_TOKENS_FILE`. */
export interface StaticToken {
  /** Shown in logs and the audit log instead of the token. */
  name: string;
  token: string;
}

/** One `OAUTH_SCOPE_MAP` entry: a scope as the identity provider names it, and the Portico scope it grants. */
export interface ScopeMapping {
  /** As clients request it and tokens carry it, e.g. `api://portico/tools.read`. */
  external: string;
  /** As tools declare it in `scopes`, e.g. `tools:read`. */
  portico: string;
}

/** OAuth 2.1 resource server: JWT access tokens from the listed issuers, verified against a JWKS. */
export interface OAuthResourceServerConfig {
  /** True when OAUTH_ISSUERS (and so OAUTH_JWKS_URL) is set, or the built-in authorization server is on. */
  enabled: boolean;
  /**
   * External `iss` values accepted, compared exactly; advertised as
   * `authorization_servers`. The built-in server's issuer (`OAUTH_SERVER=builtin`)
   * is not listed here: it is the base URL, known once listening.
   */
  issuers: string[];
  /** `OAUTH_SERVER=builtin`: also trust the built-in authorization server, with its keys read locally. */
  builtinIssuer: boolean;
  jwksUrl?: string;
  jwksTimeoutMs: number;
  /** How long fetched keys are used before the JWKS is fetched again. */
  jwksCacheMs: number;
  /** Leeway for `exp` and `nbf`. */
  clockSkewSeconds: number;
  /** Accept only tokens whose header says `typ: at+jwt` (RFC 9068); otherwise `JWT` or no `typ` pass too. */
  requireAtJwt: boolean;
  /** `aud` values accepted besides the canonical resource URL (IdPs that cannot put that URL in `aud`). */
  extraAudiences: string[];
  /** Scopes a client should request first (the `scope` of 401 challenges); empty: every scope a tool declares. */
  scopes: string[];
  scopeMap: ScopeMapping[];
}

/** The network tools (`src/tools/net`) and the SSRF guard any module may use. */
export interface NetConfig {
  /** Opened beyond the default (public addresses only): address ranges and host names. */
  allow: NetRules;
  /** Refused whatever else says: address ranges and host names. */
  deny: NetRules;
  /** `net_ping_host` with `method: icmp` runs the system `ping` (never through a shell). */
  icmp: { enabled: boolean; pingPath?: string };
  /** Per TCP connect attempt (ping, port checks) and per ICMP reply. */
  probeTimeoutMs: number;
  /** `net_fetch_page`: the whole fetch, the largest body a caller may ask for, redirects followed. */
  fetch: { timeoutMs: number; maxBytes: number; maxRedirects: number };
}

/** What the built-in authorization server rate-limits per client IP (express middleware in front of it). */
export type RateLimitKind = 'register' | 'token' | 'authorize' | 'login';

/** At most `limit` hits per `windowSeconds`. */
export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/** The built-in OAuth 2.1 authorization server (`OAUTH_SERVER=builtin`, `src/authorization-server`). */
export interface AuthorizationServerConfig {
  enabled: boolean;
  /**
   * Encrypts the signing and cookie keys stored in the database (AES-256-GCM).
   * Unset: a secret generated in `<DATA_DIR>/oauth-server-secret` (embedded
   * database only; with DATABASE_URL every instance must share one, so it is required).
   */
  secret?: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** How long a rotated refresh token is still accepted (a retried refresh whose response was lost). */
  refreshGraceSeconds: number;
  /** A new signing key every this many days; the previous one stays in the JWKS. */
  keyRotationDays: number;
  rateLimits: Record<RateLimitKind, RateLimit>;
}

/** A user from `AUTH_BASIC_USERS`: a name and a scrypt hash made by `portico users hash`. */
export interface BasicUser {
  name: string;
  hash: string;
}

/** Write categories `OPENPROJECT_WRITE` can enable; each write tool belongs to one. */
export const OPENPROJECT_WRITE_CATEGORIES = ['workPackages', 'comments', 'time', 'relations', 'versions', 'notifications'] as const;
export type OpenProjectWriteCategory = (typeof OPENPROJECT_WRITE_CATEGORIES)[number];

/** The OpenProject integration; present only when `OPENPROJECT_URL` is set. */
export interface OpenProjectConfig {
  /** API base as Portico reaches it, e.g. `http://openproject:8080` (no trailing slash). */
  url: string;
  /** Base of links shown to users (`https://pm.example.com`); defaults to `url`. */
  webUrl: string;
  /**
   * `service`: every call acts as the owner of `apiKey`. `per-user`: each
   * principal acts with its own key, linked with `openproject_link_account`
   * and stored encrypted with `encryptionKey`.
   */
  identity: 'service' | 'per-user';
  /** The service account's key (service mode; in per-user mode only the readiness probe uses it). */
  apiKey?: string;
  /** AES-256-GCM key for stored per-user keys (32 bytes). */
  encryptionKey?: Buffer;
  write: OpenProjectWriteCategory[];
  allowDelete: boolean;
  /** Project identifiers or ids the tools may touch; empty: every project the OpenProject user sees. */
  projects: string[];
  maxPageSize: number;
  timeoutMs: number;
  forwardedProto?: 'https' | 'http';
  hostHeader?: string;
  /** How long statuses, types, priorities and projects are cached for name resolution. */
  cacheTtlMs: number;
}

/** The parsed, typed configuration; built once at boot by {@link loadConfig}. */
export interface AppConfig {
  http: {
    host: string;
    port: number;
    /** Extra Origin host names accepted (port-agnostic); a present Origin outside the allowed set gets 403. */
    allowedOrigins: string[];
    /** Host headers accepted when bound beyond loopback (loopback names are always accepted). */
    allowedHosts: string[];
    maxBodyBytes: number;
    /**
     * Slow clients (slowloris), on both ports: a request's headers must
     * arrive within `headersTimeoutMs`, the whole request (headers and body)
     * within `requestTimeoutMs`, else 408 and the connection closes. Answers
     * that stream (SSE) are not limited: the request is complete by then. An
     * idle keep-alive connection closes after `keepAliveTimeoutMs`.
     */
    timeouts: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
    /** Number of reverse-proxy hops whose X-Forwarded-* headers are trusted. */
    trustProxy: number;
    /**
     * The URL clients reach Portico at through a reverse proxy, without a
     * trailing slash (`https://mcp.example.com/portico`); unset when Portico
     * is reached directly. Its path prefixes the URL the HTTP+SSE transport
     * announces for `/messages`, and it + `/mcp` is the canonical resource URL
     * OAuth tokens must be issued for (default `http://HOST:PORT/mcp`, see
     * `ProtectedResourceService`).
     */
    publicBaseUrl?: string;
  };
  /** The status server: health, status API, metrics, audit. */
  status: {
    host: string;
    port: number;
    /** Opens the administrative routes (full status, sessions, tools, metrics, audit); from STATUS_ADMIN_TOKEN or STATUS_ADMIN_TOKEN_FILE. */
    adminToken?: string;
    /** A token that opens `/metrics` only (for a Prometheus scrape config). */
    metricsToken?: string;
    /** `/metrics` without any token (when the status port is reachable only by the scraper). */
    metricsPublic: boolean;
    /** Longest wait for one readiness indicator before it counts as down. */
    readinessTimeoutMs: number;
    /** Queued audit events above which the audit indicator reports `degraded`. */
    auditBacklogDegraded: number;
  };
  /** Days of audit events to keep; 0 keeps everything. */
  audit: { retentionDays: number };
  dataDir: string;
  database: { url?: string };
  auth: {
    disabled: boolean;
    tokens: StaticToken[];
    /** HTTP Basic users from the environment; they get every scope. Database users come on top. */
    basicUsers: BasicUser[];
    /**
     * Failed authentications counted per client IP and per user name: the
     * `maxFailures`-th failure of a user name (`maxFailuresPerIp`-th of an IP)
     * within `seconds` starts a cool-down of `seconds`, answered 429.
     */
    lockout: { maxFailures: number; maxFailuresPerIp: number; seconds: number };
    oauth: OAuthResourceServerConfig;
  };
  authorizationServer: AuthorizationServerConfig;
  sessions: { idleTtlMs: number; maxAgeMs: number; maxPerPrincipal: number; maxEvents: number };
  /**
   * Long-lived streams open at once (legacy GET streams on `/mcp`, `/sse`
   * sessions, modern `subscriptions/listen`): per principal (429 past it)
   * and on this instance (503 past it).
   */
  streams: { maxPerPrincipal: number; maxPerInstance: number };
  /**
   * Shared state for a fleet (docs/scaling.md): legacy sessions and their
   * events, rate-limit and lockout counters, and server-to-client messages
   * over pub/sub. Undefined when REDIS_URL is unset: everything stays in
   * this process.
   */
  redis?: { url: string; prefix: string };
  /** This process among its peers: `id` (INSTANCE_ID, else random) names it in the `X-Portico-Instance` header when `header` is on. */
  instance: { id: string; header: boolean };
  tools: {
    timeoutMs: number;
    /** Largest tool result sent (serialized bytes); larger ones are truncated with a note to the model. */
    maxResultBytes: number;
    /**
     * Serve the MCP conformance suite's fixture tools, resources and prompts
     * (`src/tools/conformance`). For conformance runs only, never in production.
     */
    conformanceFixtures: boolean;
  };
  /** Accept the header/body protocol-version mismatches of shipped clients (claude.ai, Claude Code). */
  mcp: { clientQuirks: boolean };
  /** Signs the requestState of multi-round tool calls; random per process unless configured. */
  requestState: { key: Uint8Array; ttlSeconds: number; configured: boolean };
  /** The 2024-11-05 HTTP+SSE transport (`GET /sse` + `POST /messages`); when off, both routes are not mounted. */
  legacySse: { enabled: boolean };
  log: { level: Env['LOG_LEVEL'] };
  /** Longest graceful shutdown: in-flight calls get most of it, the audit flush the rest. */
  shutdownTimeoutMs: number;
  net: NetConfig;
  /**
   * Rate limits per principal (per client IP for requests without one). `requests`
   * per `windowMs` for every HTTP request of the MCP app (0: off); `tools`: per-tool
   * limits from RATE_LIMIT_TOOLS, which override a tool's `@Tool({ rateLimit })`.
   */
  rateLimit: { requests: number; windowMs: number; tools: Record<string, ToolRateLimit> };
  /** Undefined when `OPENPROJECT_URL` is not set: the OpenProject tools stay off. */
  openproject?: OpenProjectConfig;
}

/** At most `limit` calls of one tool per principal in any `windowMs`. */
export interface ToolRateLimit {
  limit: number;
  windowMs: number;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

const MIN_TOKEN_LENGTH = 16;
/** RFC 6749 `scope-token`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const TOKEN_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
/** A Portico user name (database or AUTH_BASIC_USERS): like a token name; never a colon, Basic's separator. */
export const USERNAME = TOKEN_NAME;

/** `https://app.example.com[:port]` or a bare host name → the host name; undefined if neither. */
function originHostname(value: string): string | undefined {
  if (/^https?:\/\/[^/]+$/.test(value)) {
    try {
      return new URL(value).hostname.toLowerCase();
    } catch {
      return undefined;
    }
  }
  return /^[a-zA-Z0-9.-]+$/.test(value) ? value.toLowerCase() : undefined;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Addresses that mean "every interface": no client can reach Portico by them. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** The OAUTH_* keys as one typed object; pushes a problem for each bad or missing value. */
function oauthConfig(env: Partial<Env>, problems: { key: string; message: string }[]): OAuthResourceServerConfig {
  const issuers = env.OAUTH_ISSUERS ?? [];
  for (const issuer of issuers) {
    let url: URL | undefined;
    try {
      url = new URL(issuer);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname.replace(/^\[|\]$/g, ''))))) {
      problems.push({ key: 'OAUTH_ISSUERS', message: `${issuer} is not an https URL (http only on a loopback host)` });
    }
  }
  if (issuers.length && !env.OAUTH_JWKS_URL && !problems.some((p) => p.key === 'OAUTH_JWKS_URL')) {
    problems.push({ key: 'OAUTH_JWKS_URL', message: 'required when OAUTH_ISSUERS is set: the URL of the issuers\' JSON Web Key Set' });
  }
  if (env.OAUTH_JWKS_URL && !issuers.length) {
    problems.push({ key: 'OAUTH_ISSUERS', message: 'required when OAUTH_JWKS_URL is set: tokens are accepted only from listed issuers' });
  }
  for (const scope of env.OAUTH_SCOPES ?? []) {
    if (!SCOPE_TOKEN.test(scope)) problems.push({ key: 'OAUTH_SCOPES', message: `${JSON.stringify(scope)} is not a valid OAuth scope` });
  }
  const scopeMap: ScopeMapping[] = [];
  for (const entry of env.OAUTH_SCOPE_MAP ?? []) {
    const eq = entry.lastIndexOf('=');
    const external = entry.slice(0, eq);
    const portico = entry.slice(eq + 1);
    if (eq <= 0 || !SCOPE_TOKEN.test(external) || !SCOPE_TOKEN.test(portico)) {
      problems.push({ key: 'OAUTH_SCOPE_MAP', message: `${JSON.stringify(entry)} is not idp-scope=portico-scope` });
    } else {
      scopeMap.push({ external, portico });
    }
  }
  const builtinIssuer = env.OAUTH_SERVER === 'builtin';
  const enabled = issuers.length > 0 || builtinIssuer;
  if (enabled && env.HOST && isWildcard(env.HOST) && !env.PUBLIC_BASE_URL) {
    problems.push({
      key: 'PUBLIC_BASE_URL',
      message: `required with ${builtinIssuer ? 'OAUTH_SERVER=builtin' : 'OAUTH_ISSUERS'} when HOST is ${env.HOST}: tokens must be issued for <PUBLIC_BASE_URL>/mcp, the URL clients use`,
    });
  }
  return {
    enabled,
    issuers,
    builtinIssuer,
    jwksUrl: env.OAUTH_JWKS_URL,
    jwksTimeoutMs: env.OAUTH_JWKS_TIMEOUT_MS!,
    jwksCacheMs: env.OAUTH_JWKS_CACHE_SECONDS! * 1000,
    clockSkewSeconds: env.OAUTH_CLOCK_SKEW_SECONDS!,
    requireAtJwt: env.OAUTH_REQUIRE_AT_JWT!,
    extraAudiences: env.OAUTH_EXTRA_AUDIENCES ?? [],
    scopes: env.OAUTH_SCOPES ?? [],
    scopeMap,
  };
}

const RATE_LIMIT_KINDS: readonly RateLimitKind[] = ['register', 'token', 'authorize', 'login'];

/** `OAUTH_SERVER_RATE_LIMITS`: `kind=limit/seconds` pairs, comma-separated; kinds left out keep their default. */
export function parseRateLimits(text: string, problems: { key: string; message: string }[]): Record<RateLimitKind, RateLimit> {
  const limits: Record<RateLimitKind, RateLimit> = {
    register: { limit: 60, windowSeconds: 600 },
    token: { limit: 600, windowSeconds: 60 },
    authorize: { limit: 300, windowSeconds: 60 },
    login: { limit: 10, windowSeconds: 600 },
  };
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)\/(\d+)$/.exec(entry);
    if (!m || !RATE_LIMIT_KINDS.includes(m[1] as RateLimitKind) || Number(m[2]) < 1 || Number(m[3]) < 1) {
      problems.push({ key: 'OAUTH_SERVER_RATE_LIMITS', message: `${JSON.stringify(entry)} is not kind=limit/seconds with kind one of ${RATE_LIMIT_KINDS.join(', ')}` });
      continue;
    }
    limits[m[1] as RateLimitKind] = { limit: Number(m[2]), windowSeconds: Number(m[3]) };
  }
  return limits;
}

/** A secret from `KEY` or the file named by `KEY_FILE` (trimmed); a problem when both or an unreadable file. */
function secret(env: Partial<Env>, key: 'OPENPROJECT_API_KEY' | 'OPENPROJECT_KEY_ENCRYPTION_KEY', cwd: string, problems: { key: string; message: string }[]): string | undefined {
  const fileKey = `${key}_FILE` as const;
  const file = env[fileKey];
  if (env[key] && file) {
    problems.push({ key: fileKey, message: `set either ${key} or ${fileKey}, not both` });
    return undefined;
  }
  if (!file) return env[key];
  try {
    const value = readFileSync(resolve(cwd, file), 'utf8').trim();
    if (!value) problems.push({ key: fileKey, message: 'the file is empty' });
    return value || undefined;
  } catch (e) {
    problems.push({ key: fileKey, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? 'error'}` });
    return undefined;
  }
}

function httpUrl(value: string | undefined, key: string, problems: { key: string; message: string }[]): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && !url.search && !url.hash) {
      return url.href.replace(/\/+$/, '');
    }
  } catch {
    // reported below
  }
  problems.push({ key, message: 'must be an http(s) URL without credentials, query or fragment, e.g. http://openproject:8080' });
  return undefined;
}

/** The OPENPROJECT_* keys as one typed object, or undefined when the integration is off. */
function openProjectConfig(env: Partial<Env>, cwd: string, problems: { key: string; message: string }[]): OpenProjectConfig | undefined {
  const url = httpUrl(env.OPENPROJECT_URL, 'OPENPROJECT_URL', problems);
  const webUrl = httpUrl(env.OPENPROJECT_WEB_URL, 'OPENPROJECT_WEB_URL', problems);
  if (!env.OPENPROJECT_URL) {
    const stray = (['OPENPROJECT_API_KEY', 'OPENPROJECT_API_KEY_FILE', 'OPENPROJECT_KEY_ENCRYPTION_KEY', 'OPENPROJECT_KEY_ENCRYPTION_KEY_FILE'] as const).filter((k) => env[k]);
    for (const key of stray) problems.push({ key, message: 'set without OPENPROJECT_URL: set OPENPROJECT_URL to enable the OpenProject tools, or remove it' });
    return undefined;
  }
  const apiKey = secret(env, 'OPENPROJECT_API_KEY', cwd, problems);
  const rawEncryptionKey = secret(env, 'OPENPROJECT_KEY_ENCRYPTION_KEY', cwd, problems);
  const identity = env.OPENPROJECT_IDENTITY ?? 'service';
  if (identity === 'service' && !apiKey && !problems.some((p) => p.key.startsWith('OPENPROJECT_API_KEY'))) {
    problems.push({ key: 'OPENPROJECT_API_KEY', message: 'required with OPENPROJECT_IDENTITY=service (or OPENPROJECT_API_KEY_FILE): the service account\'s API key' });
  }
  let encryptionKey: Buffer | undefined;
  if (rawEncryptionKey) {
    encryptionKey = /^[0-9a-fA-F]{64}$/.test(rawEncryptionKey) ? Buffer.from(rawEncryptionKey, 'hex') : Buffer.from(rawEncryptionKey, 'base64');
    if (encryptionKey.length !== 32) {
      problems.push({ key: 'OPENPROJECT_KEY_ENCRYPTION_KEY', message: 'must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)' });
    }
  } else if (identity === 'per-user' && !problems.some((p) => p.key.startsWith('OPENPROJECT_KEY_ENCRYPTION_KEY'))) {
    problems.push({ key: 'OPENPROJECT_KEY_ENCRYPTION_KEY', message: 'required with OPENPROJECT_IDENTITY=per-user (or OPENPROJECT_KEY_ENCRYPTION_KEY_FILE): encrypts the stored user keys' });
  }
  const write: OpenProjectWriteCategory[] = [];
  for (const category of env.OPENPROJECT_WRITE ?? []) {
    if ((OPENPROJECT_WRITE_CATEGORIES as readonly string[]).includes(category)) write.push(category as OpenProjectWriteCategory);
    else problems.push({ key: 'OPENPROJECT_WRITE', message: `unknown category ${JSON.stringify(category)}: use ${OPENPROJECT_WRITE_CATEGORIES.join(', ')}` });
  }
  if (!url) return undefined;
  return {
    url,
    webUrl: webUrl ?? url,
    identity,
    apiKey,
    encryptionKey,
    write,
    allowDelete: env.OPENPROJECT_ALLOW_DELETE ?? false,
    projects: env.OPENPROJECT_PROJECTS ?? [],
    maxPageSize: env.OPENPROJECT_MAX_PAGE_SIZE ?? 100,
    timeoutMs: env.OPENPROJECT_TIMEOUT_MS ?? 10_000,
    forwardedProto: env.OPENPROJECT_FORWARDED_PROTO,
    hostHeader: env.OPENPROJECT_HOST_HEADER,
    cacheTtlMs: (env.OPENPROJECT_CACHE_SECONDS ?? 300) * 1000,
  };
}

/**
 * Parses `AUTH_TOKENS`-style text: entries separated by commas or new lines,
 * each `token` or `name:token`; lines starting with `#` are comments. Never
 * echoes a token in an error.
 */
export function parseTokens(text: string, key: string, problems: { key: string; message: string }[]): StaticToken[] {
  const tokens: StaticToken[] = [];
  // Comment lines go before the comma split, or "# a, b" would yield an entry "b".
  const entries = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'));
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':');
    // A bare token is named after its digest: stable across restarts and sources.
    const name = colon > 0 ? entry.slice(0, colon) : `token-${createHash('sha256').update(entry).digest('hex').slice(0, 8)}`;
    const token = colon > 0 ? entry.slice(colon + 1) : entry;
    if (!TOKEN_NAME.test(name)) {
      problems.push({ key, message: `entry ${i + 1}: name must match ${TOKEN_NAME.source}` });
    } else if (token.length < MIN_TOKEN_LENGTH) {
      problems.push({ key, message: `entry ${i + 1} (${name}): token must be at least ${MIN_TOKEN_LENGTH} characters` });
    } else if (/\s/.test(token)) {
      problems.push({ key, message: `entry ${i + 1} (${name}): token must not contain white space` });
    } else if (tokens.some((t) => t.name === name)) {
      problems.push({ key, message: `entry ${i + 1}: duplicate name ${name}` });
    } else {
      tokens.push({ name, token });
    }
  });
  return tokens;
}

const TOOL_LIMIT = /^([a-z][a-z0-9_]{0,63})=(\d+)\/(\d+)(s|m|h)?$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `RATE_LIMIT_TOOLS`: `tool=LIMIT/WINDOW` entries, WINDOW in seconds or with a unit (`30s`, `5m`, `1h`). */
export function parseToolLimits(entries: string[], problems: { key: string; message: string }[]): Record<string, ToolRateLimit> {
  const limits: Record<string, ToolRateLimit> = {};
  for (const entry of entries) {
    const m = TOOL_LIMIT.exec(entry);
    if (!m || Number(m[2]) < 1 || Number(m[3]) < 1) {
      problems.push({ key: 'RATE_LIMIT_TOOLS', message: `"${entry}" is not tool_name=LIMIT/WINDOW (e.g. openproject_create_work_package=10/60s)` });
      continue;
    }
    if (limits[m[1]]) problems.push({ key: 'RATE_LIMIT_TOOLS', message: `${m[1]} is listed twice` });
    limits[m[1]] = { limit: Number(m[2]), windowMs: Number(m[3]) * UNIT_MS[(m[4] ?? 's') as keyof typeof UNIT_MS] };
  }
  return limits;
}

/**
 * Parses `AUTH_BASIC_USERS`: `name:hash` entries separated by commas or new
 * lines, each hash made by `portico users hash`. Never echoes a hash.
 */
function parseBasicUsers(text: string, problems: { key: string; message: string }[]): BasicUser[] {
  const key = 'AUTH_BASIC_USERS';
  const users: BasicUser[] = [];
  const entries = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    const hash = entry.slice(colon + 1);
    if (!USERNAME.test(name)) {
      problems.push({ key, message: `entry ${i + 1}: expected name:hash with a name matching ${USERNAME.source}` });
    } else if (!parsePasswordHash(hash)) {
      problems.push({ key, message: `entry ${i + 1} (${name}): not a password hash made by \`portico users hash\`` });
    } else if (users.some((u) => u.name === name)) {
      problems.push({ key, message: `entry ${i + 1}: duplicate name ${name}` });
    } else {
      users.push({ name, hash });
    }
  });
  return users;
}

/** Validates the environment; throws a {@link ConfigError} naming every bad key. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const problems: { key: string; message: string }[] = [];
  // Each key on its own, so one bad value does not hide the others, and the
  // cross-key checks below still run on every key that did parse.
  const env: Partial<Env> = {};
  for (const [key, schema] of Object.entries(envSchema.shape)) {
    const value = source[key] === '' ? undefined : source[key];
    const parsed = (schema as z.ZodType).safeParse(value);
    if (parsed.success) (env as Record<string, unknown>)[key] = parsed.data;
    else problems.push({ key, message: parsed.error.issues.map((i) => i.message).join('; ') });
  }

  const tokens: StaticToken[] = [];
  if (env.AUTH_TOKENS) tokens.push(...parseTokens(env.AUTH_TOKENS, 'AUTH_TOKENS', problems));
  if (env.AUTH_TOKENS_FILE) {
    try {
      const file = resolve(cwd, env.AUTH_TOKENS_FILE);
      tokens.push(...parseTokens(readFileSync(file, 'utf8'), 'AUTH_TOKENS_FILE', problems));
    } catch (e) {
      problems.push({ key: 'AUTH_TOKENS_FILE', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? 'error'}` });
    }
  }
  const basicUsers = env.AUTH_BASIC_USERS ? parseBasicUsers(env.AUTH_BASIC_USERS, problems) : [];
  const names = new Set<string>();
  for (const t of tokens) {
    if (names.has(t.name)) problems.push({ key: 'AUTH_TOKENS', message: `token name ${t.name} is used twice` });
    names.add(t.name);
  }
  if (env.AUTH_DISABLED && env.HOST && !isLoopback(env.HOST)) {
    problems.push({ key: 'AUTH_DISABLED', message: `only allowed when HOST is a loopback address (HOST is ${env.HOST})` });
  }
  if (env.HOST && !isLoopback(env.HOST) && env.ALLOWED_HOSTS?.length === 0) {
    problems.push({
      key: 'ALLOWED_HOSTS',
      message: `required when HOST is not loopback (HOST is ${env.HOST}): list the host names clients use, e.g. mcp.example.com`,
    });
  }
  const originHosts: string[] = [];
  for (const origin of env.ALLOWED_ORIGINS ?? []) {
    const host = originHostname(origin);
    if (host) originHosts.push(host);
    else problems.push({ key: 'ALLOWED_ORIGINS', message: `${origin} is neither an origin (https://app.example.com) nor a host name` });
  }
  const oauth = oauthConfig(env, problems);
  const rateLimits = parseRateLimits(env.OAUTH_SERVER_RATE_LIMITS ?? '', problems);
  if (env.OAUTH_SERVER === 'builtin' && env.DATABASE_URL && !env.OAUTH_SERVER_SECRET) {
    problems.push({
      key: 'OAUTH_SERVER_SECRET',
      message: 'required with OAUTH_SERVER=builtin and DATABASE_URL: every instance must decrypt the signing keys stored in the database (e.g. `openssl rand -base64 48`)',
    });
  }
  let adminToken = env.STATUS_ADMIN_TOKEN;
  if (env.STATUS_ADMIN_TOKEN_FILE) {
    if (adminToken) {
      problems.push({ key: 'STATUS_ADMIN_TOKEN_FILE', message: 'set STATUS_ADMIN_TOKEN or STATUS_ADMIN_TOKEN_FILE, not both' });
    } else {
      try {
        adminToken = readFileSync(resolve(cwd, env.STATUS_ADMIN_TOKEN_FILE), 'utf8').trim();
        if (adminToken.length < MIN_TOKEN_LENGTH || /\s/.test(adminToken)) {
          problems.push({ key: 'STATUS_ADMIN_TOKEN_FILE', message: `the token must be one line of at least ${MIN_TOKEN_LENGTH} characters without white space` });
        }
      } catch (e) {
        problems.push({ key: 'STATUS_ADMIN_TOKEN_FILE', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? 'error'}` });
      }
    }
  }
  if (adminToken && env.METRICS_TOKEN === adminToken) {
    problems.push({ key: 'METRICS_TOKEN', message: 'must differ from the admin token (it opens /metrics only)' });
  }
  const toolLimits = parseToolLimits(env.RATE_LIMIT_TOOLS ?? [], problems);
  const openproject = openProjectConfig(env, cwd, problems);
  if (env.PORT && env.PORT === env.STATUS_PORT) {
    problems.push({ key: 'STATUS_PORT', message: 'must differ from PORT' });
  }
  if (env.SESSION_MAX_AGE_SECONDS! < env.SESSION_IDLE_TTL_SECONDS!) {
    problems.push({ key: 'SESSION_MAX_AGE_SECONDS', message: 'must be at least SESSION_IDLE_TTL_SECONDS' });
  }
  if (env.HTTP_HEADERS_TIMEOUT_MS !== undefined && env.HTTP_REQUEST_TIMEOUT_MS !== undefined && env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push({ key: 'HTTP_REQUEST_TIMEOUT_MS', message: 'must be at least HTTP_HEADERS_TIMEOUT_MS' });
  }
  const net = { allow: parseNetRules(env.NET_ALLOW ?? [], 'NET_ALLOW', problems), deny: parseNetRules(env.NET_DENY ?? [], 'NET_DENY', problems) };
  if (problems.length) throw new ConfigError(problems);
  return { ...toConfig(env as Env, { tokens, basicUsers }, oauth, originHosts, cwd, rateLimits, adminToken, toolLimits, net), openproject };
}

function toConfig(
  env: Env,
  credentials: Pick<AppConfig['auth'], 'tokens' | 'basicUsers'>,
  oauth: OAuthResourceServerConfig,
  originHosts: string[],
  cwd: string,
  rateLimits: Record<RateLimitKind, RateLimit>,
  adminToken: string | undefined,
  toolLimits: Record<string, ToolRateLimit>,
  net: Pick<NetConfig, 'allow' | 'deny'>,
): AppConfig {
  return {
    http: {
      host: env.HOST,
      port: env.PORT,
      allowedOrigins: originHosts,
      allowedHosts: env.ALLOWED_HOSTS.map((h) => h.toLowerCase()),
      maxBodyBytes: env.MAX_BODY_BYTES,
      timeouts: {
        headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      },
      trustProxy: env.TRUST_PROXY,
      publicBaseUrl: env.PUBLIC_BASE_URL,
    },
    status: {
      host: env.STATUS_HOST,
      port: env.STATUS_PORT,
      adminToken,
      metricsToken: env.METRICS_TOKEN,
      metricsPublic: env.METRICS_PUBLIC,
      readinessTimeoutMs: env.READINESS_TIMEOUT_MS,
      auditBacklogDegraded: env.AUDIT_BACKLOG_DEGRADED,
    },
    audit: { retentionDays: env.AUDIT_RETENTION_DAYS },
    dataDir: isAbsolute(env.DATA_DIR) ? env.DATA_DIR : resolve(cwd, env.DATA_DIR),
    database: { url: env.DATABASE_URL },
    auth: {
      disabled: env.AUTH_DISABLED,
      ...credentials,
      lockout: { maxFailures: env.AUTH_MAX_FAILURES, maxFailuresPerIp: env.AUTH_MAX_FAILURES_PER_IP, seconds: env.AUTH_LOCKOUT_SECONDS },
      oauth,
    },
    authorizationServer: {
      enabled: env.OAUTH_SERVER === 'builtin',
      secret: env.OAUTH_SERVER_SECRET,
      accessTokenTtlSeconds: env.OAUTH_SERVER_ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.OAUTH_SERVER_REFRESH_TOKEN_TTL_SECONDS,
      refreshGraceSeconds: env.OAUTH_SERVER_REFRESH_GRACE_SECONDS,
      keyRotationDays: env.OAUTH_SERVER_KEY_ROTATION_DAYS,
      rateLimits,
    },
    sessions: {
      idleTtlMs: env.SESSION_IDLE_TTL_SECONDS * 1000,
      maxAgeMs: env.SESSION_MAX_AGE_SECONDS * 1000,
      maxPerPrincipal: env.SESSION_MAX_PER_PRINCIPAL,
      maxEvents: env.EVENT_STORE_MAX_EVENTS,
    },
    redis: env.REDIS_URL ? { url: env.REDIS_URL, prefix: env.REDIS_PREFIX } : undefined,
    instance: { id: env.INSTANCE_ID ?? randomBytes(4).toString('hex'), header: env.INSTANCE_HEADER },
    streams: { maxPerPrincipal: env.STREAM_MAX_PER_PRINCIPAL, maxPerInstance: env.STREAM_MAX_PER_INSTANCE },
    tools: { timeoutMs: env.TOOL_TIMEOUT_MS, maxResultBytes: env.TOOL_RESULT_MAX_BYTES, conformanceFixtures: env.PORTICO_CONFORMANCE_FIXTURES },
    mcp: { clientQuirks: env.MCP_CLIENT_QUIRKS },
    requestState: {
      key: env.REQUEST_STATE_KEY ? new TextEncoder().encode(env.REQUEST_STATE_KEY) : randomBytes(32),
      ttlSeconds: env.REQUEST_STATE_TTL_SECONDS,
      configured: Boolean(env.REQUEST_STATE_KEY),
    },
    legacySse: { enabled: env.LEGACY_SSE_ENABLED },
    log: { level: env.LOG_LEVEL },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    net: {
      ...net,
      icmp: { enabled: env.NET_ICMP_ENABLED, pingPath: env.NET_PING_PATH },
      probeTimeoutMs: env.NET_PROBE_TIMEOUT_MS,
      fetch: { timeoutMs: env.NET_FETCH_TIMEOUT_MS, maxBytes: env.NET_FETCH_MAX_BYTES, maxRedirects: env.NET_FETCH_MAX_REDIRECTS },
    },
    rateLimit: { requests: env.RATE_LIMIT_REQUESTS, windowMs: env.RATE_LIMIT_WINDOW_SECONDS * 1000, tools: toolLimits },
  };
}

/** A URL without its password (`redis://:secret@host` → `redis://:***@host`). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '(unparsable)';
  }
}

/** What the configuration says, without a secret: for the audit log at boot and the status API. */
export function configSummary(config: AppConfig): Record<string, unknown> {
  return {
    http: { host: config.http.host, port: config.http.port, allowedHosts: config.http.allowedHosts, allowedOrigins: config.http.allowedOrigins, maxBodyBytes: config.http.maxBodyBytes, trustProxy: config.http.trustProxy },
    status: {
      host: config.status.host,
      port: config.status.port,
      adminApi: Boolean(config.status.adminToken),
      metrics: config.status.metricsPublic ? 'public' : config.status.metricsToken ? 'metrics or admin token' : 'admin token',
      readinessTimeoutMs: config.status.readinessTimeoutMs,
      auditBacklogDegraded: config.status.auditBacklogDegraded,
    },
    audit: config.audit,
    database: config.database.url ? 'postgres' : 'embedded',
    auth: {
      disabled: config.auth.disabled,
      staticTokens: config.auth.tokens.map((t) => t.name),
      basicUsers: config.auth.basicUsers.map((u) => u.name),
      lockout: config.auth.lockout,
      oauthIssuers: config.auth.oauth.issuers,
    },
    authorizationServer: config.authorizationServer.enabled ? { ...config.authorizationServer, secret: config.authorizationServer.secret ? 'configured' : 'generated' } : 'off',
    sessions: config.sessions,
    redis: config.redis ? { url: redactUrl(config.redis.url), prefix: config.redis.prefix } : 'off',
    instance: config.instance,
    tools: config.tools,
    requestStateKey: config.requestState.configured ? 'configured' : 'random per process',
    logLevel: config.log.level,
    net: { allow: config.net.allow, deny: config.net.deny, icmp: config.net.icmp.enabled },
    rateLimit: config.rateLimit,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    openproject: config.openproject
      ? {
          url: config.openproject.url,
          identity: config.openproject.identity,
          serviceKey: Boolean(config.openproject.apiKey),
          write: config.openproject.write,
          allowDelete: config.openproject.allowDelete,
          projects: config.openproject.projects,
        }
      : 'off',
  };
}
