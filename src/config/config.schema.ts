import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The whole environment Portico reads, in one schema. Every variable is listed,
 * with its default, in `.env.example`; keep the two in step.
 */
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const list = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** OAuth scopes: separated by commas or white space (a scope never contains either). */
const scopeList = z
  .string()
  .default('')
  .transform((v) => v.split(/[\s,]+/).filter(Boolean));

/** `https://mcp.example.com/portico`: http(s), no credentials, query or fragment; kept without a trailing slash. */
const publicBaseUrl = z
  .string()
  .refine((v) => {
    if (/[?#]/.test(v)) return false;
    try {
      const url = new URL(v);
      return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without credentials, query or fragment, e.g. https://mcp.example.com/portico')
  .transform((v) => new URL(v).href.replace(/\/+$/, ''));

/** An http(s) URL; `https:` unless the host is a loopback address (a local IdP in development and tests). */
const jwksUrl = z
  .string()
  .refine((v) => {
    try {
      const url = new URL(v);
      const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
      return url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
    } catch {
      return false;
    }
  }, 'must be an https URL (http only on a loopback host), e.g. https://idp.example.com/oauth2/v1/keys');

const host = z
  .string()
  .min(1)
  .refine((v) => isIP(v) !== 0 || /^[a-zA-Z0-9.-]+$/.test(v), 'must be an IP address or a host name');

export const envSchema = z.object({
  HOST: host.default('127.0.0.1'),
  PORT: port(8080),
  STATUS_HOST: host.default('127.0.0.1'),
  STATUS_PORT: port(8081),
  STATUS_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  STATUS_ADMIN_TOKEN_FILE: z.string().optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_PUBLIC: bool(false),
  READINESS_TIMEOUT_MS: positiveInt(2000),
  AUDIT_BACKLOG_DEGRADED: positiveInt(1000),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).default(0),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .optional()
    .refine((v) => !v || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL'),
  AUTH_TOKENS: z.string().optional(),
  AUTH_TOKENS_FILE: z.string().optional(),
  AUTH_DISABLED: bool(false),
  AUTH_BASIC_USERS: z.string().optional(),
  AUTH_MAX_FAILURES: positiveInt(10),
  AUTH_MAX_FAILURES_PER_IP: positiveInt(50),
  AUTH_LOCKOUT_SECONDS: positiveInt(300),
  ALLOWED_ORIGINS: list,
  ALLOWED_HOSTS: list,
  MAX_BODY_BYTES: positiveInt(1024 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: positiveInt(20_000),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(60_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(65_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  PUBLIC_BASE_URL: publicBaseUrl.optional(),
  OAUTH_ISSUERS: list,
  OAUTH_JWKS_URL: jwksUrl.optional(),
  OAUTH_JWKS_TIMEOUT_MS: positiveInt(5_000),
  OAUTH_JWKS_CACHE_SECONDS: positiveInt(600),
  OAUTH_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  OAUTH_REQUIRE_AT_JWT: bool(false),
  OAUTH_EXTRA_AUDIENCES: list,
  OAUTH_SCOPES: scopeList,
  OAUTH_SCOPE_MAP: list,
  OAUTH_SERVER: z.enum(['off', 'builtin'], { message: 'must be off or builtin' }).default('off'),
  OAUTH_SERVER_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 48`)').optional(),
  OAUTH_SERVER_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
  OAUTH_SERVER_REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).default(30 * 24 * 60 * 60),
  OAUTH_SERVER_REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  OAUTH_SERVER_KEY_ROTATION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  OAUTH_SERVER_RATE_LIMITS: z.string().default('register=60/600,token=600/60,authorize=300/60,login=10/600'),
  SESSION_IDLE_TTL_SECONDS: positiveInt(30 * 60),
  SESSION_MAX_AGE_SECONDS: positiveInt(24 * 60 * 60),
  SESSION_MAX_PER_PRINCIPAL: positiveInt(32),
  STREAM_MAX_PER_PRINCIPAL: positiveInt(32),
  STREAM_MAX_PER_INSTANCE: positiveInt(1000),
  EVENT_STORE_MAX_EVENTS: positiveInt(1000),
  REDIS_URL: z
    .string()
    .optional()
    .refine((v) => !v || /^rediss?:\/\/[^\s]*$/.test(v), 'must be a redis:// or rediss:// URL, e.g. redis://redis:6379/0'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 letters, digits, colons, dots, dashes or underscores')
    .default('portico:'),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
    .optional(),
  INSTANCE_HEADER: bool(true),
  LEGACY_SSE_ENABLED: bool(true),
  TOOL_TIMEOUT_MS: positiveInt(60_000),
  TOOL_RESULT_MAX_BYTES: z.coerce.number().int().min(4096).default(256 * 1024),
  PORTICO_CONFORMANCE_FIXTURES: bool(false),
  REQUEST_STATE_KEY: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 48`)').optional(),
  REQUEST_STATE_TTL_SECONDS: positiveInt(600),
  MCP_CLIENT_QUIRKS: bool(true),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  NET_ALLOW: list,
  NET_DENY: list,
  NET_ICMP_ENABLED: bool(false),
  NET_PING_PATH: z
    .string()
    .optional()
    .refine((v) => !v || v.startsWith('/'), 'must be an absolute path, e.g. /usr/bin/ping'),
  NET_PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
  NET_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  NET_FETCH_MAX_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  NET_FETCH_MAX_REDIRECTS: z.coerce.number().int().min(0).max(20).default(5),
  RATE_LIMIT_REQUESTS: z.coerce.number().int().min(0).default(600),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt(60),
  RATE_LIMIT_TOOLS: list,
  OPENPROJECT_URL: z.string().optional(),
  OPENPROJECT_WEB_URL: z.string().optional(),
  OPENPROJECT_API_KEY: z.string().optional(),
  OPENPROJECT_API_KEY_FILE: z.string().optional(),
  OPENPROJECT_IDENTITY: z.enum(['service', 'per-user'], { message: 'must be service or per-user' }).default('service'),
  OPENPROJECT_KEY_ENCRYPTION_KEY: z.string().optional(),
  OPENPROJECT_KEY_ENCRYPTION_KEY_FILE: z.string().optional(),
  OPENPROJECT_WRITE: list,
  OPENPROJECT_ALLOW_DELETE: bool(false),
  OPENPROJECT_PROJECTS: list,
  OPENPROJECT_MAX_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  OPENPROJECT_TIMEOUT_MS: positiveInt(10_000),
  OPENPROJECT_FORWARDED_PROTO: z.enum(['https', 'http'], { message: 'must be https or http' }).optional(),
  OPENPROJECT_HOST_HEADER: host.optional(),
  OPENPROJECT_CACHE_SECONDS: z.coerce.number().int().min(0).default(300),
});

export type Env = z.infer<typeof envSchema>;
