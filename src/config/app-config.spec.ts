import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from './app-config';
import { ConfigError } from './config.error';

const CWD = '/srv/portico';
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';

/** The ConfigError `loadConfig(env)` throws; fails the test when it does not throw one. */
function configError(env: Record<string, string>, cwd = CWD): ConfigError {
  try {
    loadConfig(env, cwd);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const keysOf = (e: ConfigError) => e.problems.map((p) => p.key);

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({}, CWD);

    expect(config.http.host).toBe('127.0.0.1');
    expect(config.http.port).toBe(8080);
    expect(config.status).toEqual({ host: '127.0.0.1', port: 8081, metricsPublic: false, readinessTimeoutMs: 2000, auditBacklogDegraded: 1000 });
    expect(config.rateLimit).toEqual({ requests: 600, windowMs: 60_000, tools: {} });
    expect(config.http.maxBodyBytes).toBe(1_048_576);
    expect(config.dataDir).toBe('/srv/portico/data');
    expect(config.auth).toMatchObject({
      disabled: false,
      tokens: [],
      basicUsers: [],
      lockout: { maxFailures: 10, maxFailuresPerIp: 50, seconds: 300 },
    });
    expect(config.auth.oauth).toMatchObject({ enabled: false, issuers: [], jwksTimeoutMs: 5000, jwksCacheMs: 600_000, clockSkewSeconds: 30, requireAtJwt: false });
    expect(config.log.level).toBe('info');
  });

  it('resolves a relative DATA_DIR against cwd and keeps an absolute one', () => {
    expect(loadConfig({ DATA_DIR: 'var/state' }, CWD).dataDir).toBe('/srv/portico/var/state');
    expect(loadConfig({ DATA_DIR: '/var/lib/portico' }, CWD).dataDir).toBe('/var/lib/portico');
  });

  it('treats empty-string values as unset', () => {
    const config = loadConfig(
      { HOST: '', PORT: '', STATUS_PORT: '', LOG_LEVEL: '', AUTH_DISABLED: '', DATA_DIR: '', AUTH_TOKENS: '' },
      CWD,
    );

    expect(config.http.host).toBe('127.0.0.1');
    expect(config.http.port).toBe(8080);
    expect(config.status.port).toBe(8081);
    expect(config.log.level).toBe('info');
    expect(config.auth).toMatchObject({ disabled: false, tokens: [], basicUsers: [] });
    expect(config.dataDir).toBe('/srv/portico/data');
  });

  it('lists every bad variable in one ConfigError', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud', AUTH_DISABLED: 'maybe' });

    expect(keysOf(error).sort()).toEqual(['AUTH_DISABLED', 'LOG_LEVEL', 'PORT']);
    for (const key of ['PORT', 'LOG_LEVEL', 'AUTH_DISABLED']) expect(error.message).toContain(`${key}:`);
    expect(error.message).toContain('AUTH_DISABLED: must be true or false');
  });

  it('reports a bad value and a cross-key problem together', () => {
    const error = configError({ PORT: 'abc', HOST: '0.0.0.0' });
    expect(keysOf(error)).toEqual(expect.arrayContaining(['PORT', 'ALLOWED_HOSTS']));
  });

  it('takes ALLOWED_ORIGINS as origins or host names and keeps the host names', () => {
    const config = loadConfig({ ALLOWED_ORIGINS: 'https://App.Example.com, inspector.example.org,http://10.0.0.5:6274' }, CWD);
    expect(config.http.allowedOrigins).toEqual(['app.example.com', 'inspector.example.org', '10.0.0.5']);
    expect(keysOf(configError({ ALLOWED_ORIGINS: 'https://app.example.com/path' }))).toEqual(['ALLOWED_ORIGINS']);
  });

  it('keeps PUBLIC_BASE_URL without a trailing slash, and leaves it unset by default', () => {
    expect(loadConfig({}, CWD).http.publicBaseUrl).toBeUndefined();
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://MCP.example.com/portico/' }, CWD).http.publicBaseUrl).toBe('https://mcp.example.com/portico');
    expect(loadConfig({ PUBLIC_BASE_URL: 'http://10.0.0.5:8443' }, CWD).http.publicBaseUrl).toBe('http://10.0.0.5:8443');
  });

  it.each(['mcp.example.com/portico', 'ftp://mcp.example.com', 'https://mcp.example.com/?a=1', 'https://mcp.example.com/#top', 'https://user:pw@mcp.example.com', 'https://'])(
    'rejects PUBLIC_BASE_URL=%s',
    (value) => {
      expect(keysOf(configError({ PUBLIC_BASE_URL: value }))).toEqual(['PUBLIC_BASE_URL']);
    },
  );

  it('serves the legacy SSE transport unless LEGACY_SSE_ENABLED is false', () => {
    expect(loadConfig({}, CWD).legacySse.enabled).toBe(true);
    expect(loadConfig({ LEGACY_SSE_ENABLED: 'false' }, CWD).legacySse.enabled).toBe(false);
    expect(keysOf(configError({ LEGACY_SSE_ENABLED: 'off' }))).toEqual(['LEGACY_SSE_ENABLED']);
  });

  it('accepts the boolean spellings for AUTH_DISABLED', () => {
    for (const on of ['true', '1', 'yes']) expect(loadConfig({ AUTH_DISABLED: on }, CWD).auth.disabled).toBe(true);
    for (const off of ['false', '0', 'no']) expect(loadConfig({ AUTH_DISABLED: off }, CWD).auth.disabled).toBe(false);
  });

  describe('AUTH_TOKENS', () => {
    it('reads name:token and bare entries separated by commas or new lines', () => {
      const config = loadConfig({ AUTH_TOKENS: ` alice:${ALICE} ,\n${BOB}\n` }, CWD);

      expect(config.auth.tokens).toEqual([
        { name: 'alice', token: ALICE },
        { name: `token-${createHash('sha256').update(BOB).digest('hex').slice(0, 8)}`, token: BOB },
      ]);
    });

    it('names bare tokens by digest, so bare tokens from AUTH_TOKENS and the file never collide', () => {
      const dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
      try {
        writeFileSync(join(dir, 'tokens'), `${BOB}\n`);
        const config = loadConfig({ AUTH_TOKENS: ALICE, AUTH_TOKENS_FILE: join(dir, 'tokens') }, CWD);
        const names = config.auth.tokens.map((t) => t.name);
        expect(names).toHaveLength(2);
        expect(new Set(names).size).toBe(2);
        for (const name of names) expect(name).toMatch(/^token-[0-9a-f]{8}$/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('rejects a too-short token without echoing it', () => {
      const error = configError({ AUTH_TOKENS: `alice:${ALICE},bob:s3cr3t-short` });

      expect(keysOf(error)).toEqual(['AUTH_TOKENS']);
      expect(error.message).toContain('entry 2 (bob): token must be at least 16 characters');
      expect(error.message).not.toContain('s3cr3t-short');
      expect(error.message).not.toContain(ALICE);
    });

    it('rejects a short bare token without echoing it', () => {
      const error = configError({ AUTH_TOKENS: 'tinysecret' });

      expect(error.message).toContain('AUTH_TOKENS: entry 1');
      expect(error.message).not.toContain('tinysecret');
    });

    it('rejects a name used twice', () => {
      const error = configError({ AUTH_TOKENS: `ci:${ALICE},ci:${BOB}` });

      expect(keysOf(error)).toEqual(['AUTH_TOKENS']);
      expect(error.message).toContain('duplicate name ci');
      expect(error.message).not.toContain(BOB);
    });

    it('rejects a token containing white space', () => {
      const error = configError({ AUTH_TOKENS: 'ci:abcdefgh ijklmnopq' });

      expect(error.message).toContain('entry 1 (ci): token must not contain white space');
      expect(error.message).not.toContain('ijklmnopq');
    });
  });

  describe('AUTH_TOKENS_FILE', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads tokens from the file, resolved against cwd, skipping comment lines', () => {
      writeFileSync(join(dir, 'tokens'), `# CI tokens, rotated monthly\nci:${ALICE}\n\nops:${BOB}\n`);

      const config = loadConfig({ AUTH_TOKENS_FILE: 'tokens' }, dir);

      expect(config.auth.tokens).toEqual([
        { name: 'ci', token: ALICE },
        { name: 'ops', token: BOB },
      ]);
    });

    it('never takes text after a comma in a comment line for a token', () => {
      writeFileSync(join(dir, 'tokens'), `# owner ops,see-https://wiki.example.com/portico\nci:${ALICE}\n`);

      expect(loadConfig({ AUTH_TOKENS_FILE: 'tokens' }, dir).auth.tokens).toEqual([{ name: 'ci', token: ALICE }]);
    });

    it('adds file tokens to AUTH_TOKENS and rejects a name found in both', () => {
      writeFileSync(join(dir, 'tokens'), `ops:${BOB}\n`);
      expect(loadConfig({ AUTH_TOKENS: `ci:${ALICE}`, AUTH_TOKENS_FILE: join(dir, 'tokens') }, CWD).auth.tokens).toEqual([
        { name: 'ci', token: ALICE },
        { name: 'ops', token: BOB },
      ]);

      writeFileSync(join(dir, 'tokens'), `ci:${BOB}\n`);
      const error = configError({ AUTH_TOKENS: `ci:${ALICE}`, AUTH_TOKENS_FILE: join(dir, 'tokens') });
      expect(error.message).toContain('token name ci is used twice');
    });

    it('reports a missing file by its error code', () => {
      const error = configError({ AUTH_TOKENS_FILE: join(dir, 'absent') });

      expect(error.problems).toEqual([{ key: 'AUTH_TOKENS_FILE', message: 'cannot read: ENOENT' }]);
    });

    it('reports a path it cannot read as a file', () => {
      const error = configError({ AUTH_TOKENS_FILE: dir });

      expect(error.problems).toEqual([{ key: 'AUTH_TOKENS_FILE', message: 'cannot read: EISDIR' }]);
    });
  });

  describe('AUTH_BASIC_USERS and the lockout', () => {
    const HASH = 'scrypt:ln=15:r=8:p=3:PrUC-lgnLB8IvyX5uzwK1A:1Z-lZQf_WSXi7GjurVv9ETaMDkRCMs-Q1j67LxT2QOw';

    it('reads name:hash entries separated by commas or new lines', () => {
      const config = loadConfig({ AUTH_BASIC_USERS: `alice:${HASH},\n bob.ops:${HASH}\n` }, CWD);

      expect(config.auth.basicUsers).toEqual([
        { name: 'alice', hash: HASH },
        { name: 'bob.ops', hash: HASH },
      ]);
    });

    it('names every bad entry without echoing what it holds', () => {
      const error = configError({ AUTH_BASIC_USERS: `alice:plain-password-here,:${HASH},alice:${HASH},alice:${HASH}` });

      expect(keysOf(error)).toEqual(['AUTH_BASIC_USERS', 'AUTH_BASIC_USERS', 'AUTH_BASIC_USERS']);
      expect(error.message).toContain('entry 1 (alice): not a password hash made by `portico users hash`');
      expect(error.message).toContain('entry 2: expected name:hash');
      expect(error.message).toContain('entry 4: duplicate name alice');
      expect(error.message).not.toContain('plain-password-here');
    });

    it('takes the lockout thresholds and window', () => {
      const config = loadConfig({ AUTH_MAX_FAILURES: '3', AUTH_MAX_FAILURES_PER_IP: '20', AUTH_LOCKOUT_SECONDS: '2' }, CWD);

      expect(config.auth.lockout).toEqual({ maxFailures: 3, maxFailuresPerIp: 20, seconds: 2 });
      expect(keysOf(configError({ AUTH_MAX_FAILURES: '0', AUTH_LOCKOUT_SECONDS: 'soon' })).sort()).toEqual(['AUTH_LOCKOUT_SECONDS', 'AUTH_MAX_FAILURES']);
    });
  });

  describe('network exposure', () => {
    it('refuses AUTH_DISABLED when HOST is not loopback', () => {
      const error = configError({ AUTH_DISABLED: 'true', HOST: '0.0.0.0', ALLOWED_HOSTS: 'mcp.example.com' });

      expect(keysOf(error)).toEqual(['AUTH_DISABLED']);
      expect(error.message).toContain('HOST is 0.0.0.0');
    });

    it('allows AUTH_DISABLED on loopback hosts', () => {
      for (const HOST of ['127.0.0.1', 'localhost', '::1']) {
        expect(loadConfig({ AUTH_DISABLED: 'true', HOST }, CWD).auth.disabled).toBe(true);
      }
    });

    it('refuses HOST=0.0.0.0 without ALLOWED_HOSTS', () => {
      const error = configError({ HOST: '0.0.0.0' });

      expect(keysOf(error)).toEqual(['ALLOWED_HOSTS']);
    });

    it('accepts HOST=0.0.0.0 with ALLOWED_HOSTS, lower-cased', () => {
      const config = loadConfig({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'MCP.example.com, api.example.com' }, CWD);

      expect(config.http.allowedHosts).toEqual(['mcp.example.com', 'api.example.com']);
    });

    it('refuses PORT equal to STATUS_PORT', () => {
      const error = configError({ PORT: '9000', STATUS_PORT: '9000' });

      expect(keysOf(error)).toEqual(['STATUS_PORT']);
      expect(error.message).toContain('must differ from PORT');
    });

    it('allows both ports to be 0 (random ports)', () => {
      const config = loadConfig({ PORT: '0', STATUS_PORT: '0' }, CWD);

      expect([config.http.port, config.status.port]).toEqual([0, 0]);
    });

    it('lists several semantic problems together', () => {
      const error = configError({ HOST: '0.0.0.0', AUTH_DISABLED: 'true', PORT: '9000', STATUS_PORT: '9000' });

      expect(keysOf(error).sort()).toEqual(['ALLOWED_HOSTS', 'AUTH_DISABLED', 'STATUS_PORT']);
    });
  });

  describe('status port and rate limits', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the admin token from STATUS_ADMIN_TOKEN_FILE, trimmed', () => {
      writeFileSync(join(dir, 'admin'), 'admin-token-from-file-0123\n');

      expect(loadConfig({ STATUS_ADMIN_TOKEN_FILE: 'admin' }, dir).status.adminToken).toBe('admin-token-from-file-0123');
    });

    it.each([
      ['both are set', { STATUS_ADMIN_TOKEN: 'admin-token-0123456789', STATUS_ADMIN_TOKEN_FILE: 'admin' }, 'not both'],
      ['the file is missing', { STATUS_ADMIN_TOKEN_FILE: 'nope' }, 'cannot read: ENOENT'],
      ['the token in the file is short', { STATUS_ADMIN_TOKEN_FILE: 'short' }, 'at least 16 characters'],
    ])('refuses STATUS_ADMIN_TOKEN_FILE when %s', (_, env, message) => {
      writeFileSync(join(dir, 'admin'), 'admin-token-from-file-0123\n');
      writeFileSync(join(dir, 'short'), 'tiny\n');

      const error = configError(env, dir);

      expect(keysOf(error)).toEqual(['STATUS_ADMIN_TOKEN_FILE']);
      expect(error.message).toContain(message);
      expect(error.message).not.toContain('admin-token');
    });

    it('refuses a METRICS_TOKEN equal to the admin token', () => {
      const error = configError({ STATUS_ADMIN_TOKEN: 'same-token-0123456789', METRICS_TOKEN: 'same-token-0123456789' });

      expect(keysOf(error)).toEqual(['METRICS_TOKEN']);
    });

    it('parses per-tool limits with their windows', () => {
      const config = loadConfig({ RATE_LIMIT_TOOLS: 'openproject_create_work_package=10/60s, net_ping=5/2m,slow_tool=1/1h,plain=3/30', RATE_LIMIT_REQUESTS: '0' }, CWD);

      expect(config.rateLimit).toEqual({
        requests: 0,
        windowMs: 60_000,
        tools: {
          openproject_create_work_package: { limit: 10, windowMs: 60_000 },
          net_ping: { limit: 5, windowMs: 120_000 },
          slow_tool: { limit: 1, windowMs: 3_600_000 },
          plain: { limit: 3, windowMs: 30_000 },
        },
      });
    });

    it.each(['net_ping', 'net_ping=5', 'Net=5/60s', 'net_ping=0/60s', 'net_ping=5/0', 'net_ping=5/60d'])('refuses the RATE_LIMIT_TOOLS entry %s', (entry) => {
      const error = configError({ RATE_LIMIT_TOOLS: entry });

      expect(keysOf(error)).toEqual(['RATE_LIMIT_TOOLS']);
    });
  });

  describe('OAuth resource server', () => {
    const IDP = 'https://idp.example.com/realms/portico';
    const JWKS = 'https://idp.example.com/realms/portico/protocol/openid-connect/certs';

    it('is off by default and on with issuers and a JWKS URL', () => {
      expect(loadConfig({}, CWD).auth.oauth.enabled).toBe(false);
      const { oauth } = loadConfig({ OAUTH_ISSUERS: `${IDP}, https://sts.windows.net/tid/`, OAUTH_JWKS_URL: JWKS }, CWD).auth;
      expect(oauth).toMatchObject({ enabled: true, issuers: [IDP, 'https://sts.windows.net/tid/'], jwksUrl: JWKS });
    });

    it('needs both OAUTH_ISSUERS and OAUTH_JWKS_URL', () => {
      expect(keysOf(configError({ OAUTH_ISSUERS: IDP }))).toEqual(['OAUTH_JWKS_URL']);
      expect(keysOf(configError({ OAUTH_JWKS_URL: JWKS }))).toEqual(['OAUTH_ISSUERS']);
    });

    it('accepts http only on loopback, for issuers and the JWKS URL', () => {
      const local = loadConfig({ OAUTH_ISSUERS: 'http://127.0.0.1:9000', OAUTH_JWKS_URL: 'http://localhost:9000/jwks' }, CWD).auth.oauth;
      expect(local.enabled).toBe(true);
      const error = configError({ OAUTH_ISSUERS: 'http://idp.example.com,not a url', OAUTH_JWKS_URL: 'http://idp.example.com/jwks' });
      expect(keysOf(error).sort()).toEqual(['OAUTH_ISSUERS', 'OAUTH_ISSUERS', 'OAUTH_JWKS_URL']);
    });

    it('requires PUBLIC_BASE_URL when bound to every interface, since no client can reach 0.0.0.0', () => {
      const env = { OAUTH_ISSUERS: IDP, OAUTH_JWKS_URL: JWKS, HOST: '0.0.0.0', ALLOWED_HOSTS: 'mcp.example.com' };
      expect(keysOf(configError(env))).toEqual(['PUBLIC_BASE_URL']);
      expect(loadConfig({ ...env, PUBLIC_BASE_URL: 'https://mcp.example.com' }, CWD).auth.oauth.enabled).toBe(true);
    });

    it('reads scopes separated by commas or spaces, and idp=portico scope pairs', () => {
      const { oauth } = loadConfig(
        { OAUTH_SCOPES: 'mcp tools:read,openid', OAUTH_SCOPE_MAP: 'api://portico/tools.read=tools:read, files.rw=files:write' },
        CWD,
      ).auth;
      expect(oauth.scopes).toEqual(['mcp', 'tools:read', 'openid']);
      expect(oauth.scopeMap).toEqual([
        { external: 'api://portico/tools.read', portico: 'tools:read' },
        { external: 'files.rw', portico: 'files:write' },
      ]);
    });

    it('rejects malformed scopes and scope-map entries, and typed values out of range', () => {
      const error = configError({ OAUTH_SCOPES: 'ok,"quoted"', OAUTH_SCOPE_MAP: 'no-equals-sign,=x', OAUTH_CLOCK_SKEW_SECONDS: '3600', OAUTH_REQUIRE_AT_JWT: 'sometimes' });
      expect(keysOf(error).sort()).toEqual(['OAUTH_CLOCK_SKEW_SECONDS', 'OAUTH_REQUIRE_AT_JWT', 'OAUTH_SCOPES', 'OAUTH_SCOPE_MAP', 'OAUTH_SCOPE_MAP']);
    });
  });
  describe('network tools (NET_*)', () => {
    it('allows nothing beyond public addresses by default, with ICMP off', () => {
      const { net } = loadConfig({}, CWD);

      expect(net).toEqual({
        allow: { cidrs: [], hosts: [] },
        deny: { cidrs: [], hosts: [] },
        icmp: { enabled: false, pingPath: undefined },
        probeTimeoutMs: 2000,
        fetch: { timeoutMs: 15_000, maxBytes: 1_048_576, maxRedirects: 5 },
      });
    });

    it('reads address ranges and host names, normalized', () => {
      const { net } = loadConfig(
        { NET_ALLOW: '127.0.0.0/8, ::1, Wiki.Example.COM., *.corp.example.com', NET_DENY: '203.0.113.7,2001:db8::/32,intranet' },
        CWD,
      );

      expect(net.allow).toEqual({ cidrs: ['127.0.0.0/8', '::1/128'], hosts: ['wiki.example.com', '*.corp.example.com'] });
      expect(net.deny).toEqual({ cidrs: ['203.0.113.7/32', '2001:db8::/32'], hosts: ['intranet'] });
    });

    it('rejects entries that are neither a range nor a host name, naming each, and odd IPv4 spellings', () => {
      const error = configError({ NET_ALLOW: '10.0.0.0/33,http://x.example.com', NET_DENY: '0x7f.1,127.1,a b' });

      expect(keysOf(error)).toEqual(['NET_ALLOW', 'NET_ALLOW', 'NET_DENY', 'NET_DENY', 'NET_DENY']);
      expect(error.message).toContain('"10.0.0.0/33" is neither an address or CIDR range');
    });

    it('requires an absolute NET_PING_PATH', () => {
      expect(keysOf(configError({ NET_PING_PATH: 'ping' }))).toEqual(['NET_PING_PATH']);
      expect(loadConfig({ NET_PING_PATH: '/usr/bin/ping', NET_ICMP_ENABLED: 'true' }, CWD).net.icmp).toEqual({ enabled: true, pingPath: '/usr/bin/ping' });
    });
  });

  describe('built-in authorization server', () => {
    it('is off by default; builtin turns it on, trusts its issuer and keeps the defaults', () => {
      expect(loadConfig({}, CWD).authorizationServer.enabled).toBe(false);
      const config = loadConfig({ OAUTH_SERVER: 'builtin' }, CWD);
      expect(config.auth.oauth).toMatchObject({ enabled: true, builtinIssuer: true, issuers: [] });
      expect(config.authorizationServer).toMatchObject({
        enabled: true,
        accessTokenTtlSeconds: 600,
        refreshGraceSeconds: 30,
        keyRotationDays: 30,
        rateLimits: { register: { limit: 60, windowSeconds: 600 }, login: { limit: 10, windowSeconds: 600 } },
      });
    });

    it('requires OAUTH_SERVER_SECRET with DATABASE_URL, and PUBLIC_BASE_URL on 0.0.0.0', () => {
      const error = configError({ OAUTH_SERVER: 'builtin', DATABASE_URL: 'postgres://db/portico', HOST: '0.0.0.0', ALLOWED_HOSTS: 'mcp.example.com' });
      expect(keysOf(error).sort()).toEqual(['OAUTH_SERVER_SECRET', 'PUBLIC_BASE_URL']);
    });

    it('reads rate limits per kind and refuses malformed ones', () => {
      expect(loadConfig({ OAUTH_SERVER_RATE_LIMITS: 'token=5/1' }, CWD).authorizationServer.rateLimits.token).toEqual({ limit: 5, windowSeconds: 1 });
      expect(keysOf(configError({ OAUTH_SERVER_RATE_LIMITS: 'token=5,bogus=1/1' }))).toEqual(['OAUTH_SERVER_RATE_LIMITS', 'OAUTH_SERVER_RATE_LIMITS']);
      expect(keysOf(configError({ OAUTH_SERVER: 'on' }))).toEqual(['OAUTH_SERVER']);
    });
  });
});
