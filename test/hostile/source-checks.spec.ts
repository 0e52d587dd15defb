import { ROOT } from '../support/process';
import { appSources, type Finding, timingUnsafeComparisons, weakRandomness } from './source-checks';
import { SESSION_ID_BYTES } from '../../src/session/session-id';

/**
 * Comparisons the constant-time check flags that are not secret checks, each
 * with its reason. A new entry needs one as good.
 */
const NOT_SECRET_CHECKS: { file: string; text: string; why: string }[] = [
  { file: 'src/cli/read-password.ts', text: '!== password', why: 'the CLI compares the two passwords the operator just typed (confirmation), not a presented secret with a stored one' },
  { file: 'src/integrations/openproject/openproject-references.service.ts', text: '=== key', why: 'a project/user/option lookup key from tool input, no secret' },
  { file: 'src/authorization-server/authorization-server.service.ts', text: 'path === ROUTES.token', why: 'routing: the request path against the token endpoint path' },
  { file: 'src/authorization-server/authorization-server.service.ts', text: 'path === ROUTES.authorization', why: 'routing: the request path against the authorization endpoint path' },
  { file: 'src/config/app-config.ts', text: 'env.METRICS_TOKEN === adminToken', why: 'boot-time config validation (the two tokens must differ), nothing a client presents' },
  { file: 'src/transport/roaming/session-relay.service.ts', text: 'signal.holder !== stream.token', why: 'which instance holds a stream (a per-process id over Redis), not a credential' },
];

const allowed = (f: Finding) => NOT_SECRET_CHECKS.some((a) => f.file === a.file && f.text.includes(a.text));
const show = (findings: Finding[]) => findings.map((f) => `${f.file}:${f.line} ${f.text.slice(0, 160)}`);

describe('source checks: constant-time secret comparisons, CSPRNG ids', () => {
  const sources = appSources(ROOT);

  it('reads the app and its libraries', () => {
    expect(sources.length).toBeGreaterThan(100);
    // The known secret checks are all found and pass: they use timingSafeEqual.
    for (const file of ['src/auth/static-token.service.ts', 'src/auth/api-key.service.ts', 'src/auth/password-hash.ts', 'src/status/status-tokens.ts', 'src/authorization-server/interaction.controller.ts']) {
      const text = sources.find(([f]) => f === file)?.[1];
      expect({ file, timingSafeEqual: text?.includes('timingSafeEqual(') }).toEqual({ file, timingSafeEqual: true });
    }
  });

  it('compares every secret in constant time (timingSafeEqual), never with === or !==', () => {
    const findings = sources.flatMap(([file, text]) => timingUnsafeComparisons(file, text));
    expect(show(findings.filter((f) => !allowed(f)))).toEqual([]);
    // Every allow-list entry still matches something: stale entries go.
    for (const a of NOT_SECRET_CHECKS) expect({ entry: a.text, used: findings.some((f) => f.file === a.file && f.text.includes(a.text)) }).toEqual({ entry: a.text, used: true });
  });

  it('has no Math.random, and session ids of at least 16 bytes from randomBytes', () => {
    expect(show(sources.flatMap(([file, text]) => weakRandomness(file, text)))).toEqual([]);
    // Both session kinds are covered by the check: /mcp (and its roaming variant) and HTTP+SSE.
    const generators = sources.filter(([, text]) => /sessionIdGenerator:\s*\(\)\s*=>|_sessionId:/.test(text)).map(([f]) => f);
    expect(generators).toEqual(expect.arrayContaining(['src/transport/legacy-sessions.service.ts', 'src/transport/legacy-sse/legacy-sse.service.ts']));
    // …and the id source they share draws that many bytes from randomBytes for each id.
    expect(SESSION_ID_BYTES).toBeGreaterThanOrEqual(16);
    expect(sources.find(([f]) => f === 'src/session/session-id.ts')?.[1]).toMatch(/return randomBytes\(SESSION_ID_BYTES\)\.toString\('base64url'\);/);
  });

  describe('the checks can fail (fixtures)', () => {
    it('flags secret comparisons with === and !==, not timingSafeEqual or constants', () => {
      const fixture = [
        'if (presented === this.config.adminToken) ok();',
        'if (req.headers.authorization !== `Bearer ${secret}`) deny();',
        'const good = digest(password) == stored.digest;',
        'if (apiKey !== expectedKey) deny();',
        'if (timingSafeEqual(a, b)) ok();',
        "if (typeof token === 'string' && token.length === 0 && key === undefined && secret !== null) ok();",
      ].join('\n');
      expect(show(timingUnsafeComparisons('fixture.ts', fixture))).toEqual([
        'fixture.ts:1 presented === this.config.adminToken',
        'fixture.ts:2 req.headers.authorization !== `Bearer ${secret}`',
        'fixture.ts:3 digest(password) == stored.digest',
        'fixture.ts:4 apiKey !== expectedKey',
      ]);
    });

    it('flags Math.random and short or UUID session ids', () => {
      const fixture = [
        'const nonce = Math.random().toString(36);',
        'const a = new T({ sessionIdGenerator: () => randomUUID() });',
        'const id = randomBytes(8).toString("hex");',
        'const b = new T({ sessionIdGenerator: () => id });',
        'Object.assign(t, { _sessionId: randomBytes(24).toString("base64url") });',
      ].join('\n');
      expect(weakRandomness('fixture.ts', fixture).map((f) => f.line)).toEqual([1, 2, 4]);
    });
  });
});
