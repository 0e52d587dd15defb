import { Logger } from '@nestjs/common';
import { SignJWT } from 'jose';
import { TestIdp } from '../../../test/support/test-idp';
import { loadConfig } from '../../config/app-config';
import type { ProtectedResourceService } from '../protected-resource.service';
import type { LocalIssuer } from './local-issuer';
import { type OAuthFailureReason, OAuthTokenError, OAuthTokenVerifier } from './oauth-token.verifier';

const RESOURCE = 'https://mcp.example.com/mcp';

describe('OAuthTokenVerifier', () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await TestIdp.start();
  });
  afterAll(() => idp.stop());
  beforeEach(() => {
    idp.down = false;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  function verifier(env: Record<string, string> = {}): OAuthTokenVerifier {
    const config = loadConfig({ OAUTH_ISSUERS: idp.issuer, OAUTH_JWKS_URL: idp.jwksUrl, ...env }, '/srv');
    return new OAuthTokenVerifier(config, { resourceUrl: RESOURCE } as ProtectedResourceService);
  }

  /** The refusal `verify` throws. */
  async function refusal(v: OAuthTokenVerifier, token: string): Promise<OAuthTokenError> {
    try {
      await v.verify(token);
    } catch (e) {
      if (e instanceof OAuthTokenError) return e;
      throw e;
    }
    throw new Error('expected the token to be refused');
  }

  const reasonOf = async (v: OAuthTokenVerifier, token: string): Promise<OAuthFailureReason> => (await refusal(v, token)).reason;

  it('accepts an ES256 at+jwt token for the resource and maps it to a stable principal', async () => {
    const token = await idp.mint(RESOURCE, { scope: 'notes:read notes:write', sub: 'user-42', name: 'Ada' });

    const verified = await verifier().verify(token);

    expect(verified.principal).toEqual({
      id: `oauth:${idp.issuer}#user-42`,
      kind: 'user',
      displayName: 'Ada',
      scopes: ['notes:read', 'notes:write'],
      authMethod: 'oauth',
    });
    expect(verified).toMatchObject({ issuer: idp.issuer, clientId: 'test-client', scopes: ['notes:read', 'notes:write'] });
    expect(verified.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('gives two tokens of the same subject the same principal id', async () => {
    const v = verifier();
    const first = await v.verify(await idp.mint(RESOURCE, { scope: 'notes:read', jti: 'one' }));
    const second = await v.verify(await idp.mint(RESOURCE, { scope: 'notes:read notes:write', jti: 'two' }, { alg: 'RS256' }));
    expect(second.principal.id).toBe(first.principal.id);
  });

  it('accepts RS256 too', async () => {
    expect((await verifier().verify(await idp.mint(RESOURCE, {}, { alg: 'RS256' }))).principal.authMethod).toBe('oauth');
  });

  describe('typ', () => {
    it.each([['at+jwt'], ['application/at+jwt'], ['JWT'], [null]])('accepts %s by default', async (typ) => {
      await expect(verifier().verify(await idp.mint(RESOURCE, {}, { typ }))).resolves.toBeDefined();
    });

    it.each([['JWT'], [null]])('refuses %s with OAUTH_REQUIRE_AT_JWT', async (typ) => {
      expect(await reasonOf(verifier({ OAUTH_REQUIRE_AT_JWT: 'true' }), await idp.mint(RESOURCE, {}, { typ }))).toBe('wrong_typ');
    });

    it('accepts at+jwt with OAUTH_REQUIRE_AT_JWT', async () => {
      await expect(verifier({ OAUTH_REQUIRE_AT_JWT: 'true' }).verify(await idp.mint(RESOURCE))).resolves.toBeDefined();
    });

    it.each([['dpop+jwt'], ['logout+jwt']])('always refuses another token type (%s)', async (typ) => {
      expect(await reasonOf(verifier(), await idp.mint(RESOURCE, {}, { typ }))).toBe('wrong_typ');
    });
  });

  describe('audience', () => {
    it('refuses a token for another resource, naming its principal and audience', async () => {
      const e = await refusal(verifier(), await idp.mint('https://other.example.com/mcp'));
      expect(e.reason).toBe('wrong_audience');
      expect(e.facts).toEqual({ principalId: `oauth:${idp.issuer}#alice`, issuer: idp.issuer, audience: 'https://other.example.com/mcp' });
    });

    it.each([[`${RESOURCE}/`], ['https://mcp.example.com'], ['https://mcp.example.com/MCP']])('compares exactly: refuses %s', async (aud) => {
      expect(await reasonOf(verifier(), await idp.mint(aud))).toBe('wrong_audience');
    });

    it('refuses a token without an audience', async () => {
      expect(await reasonOf(verifier(), await idp.mint(RESOURCE, { aud: undefined }))).toBe('missing_claim');
    });

    it('accepts an audience array that names the resource', async () => {
      await expect(verifier().verify(await idp.mint('', { aud: ['https://graph.example.com', RESOURCE] }))).resolves.toBeDefined();
    });

    it('accepts OAUTH_EXTRA_AUDIENCES', async () => {
      const token = await idp.mint('00000000-aaaa-bbbb-cccc-000000000000');
      expect(await reasonOf(verifier(), token)).toBe('wrong_audience');
      await expect(verifier({ OAUTH_EXTRA_AUDIENCES: '00000000-aaaa-bbbb-cccc-000000000000' }).verify(token)).resolves.toBeDefined();
    });
  });

  it('refuses another issuer without fetching the JWKS', async () => {
    const before = idp.jwksRequests;
    const e = await refusal(verifier(), await idp.mint(RESOURCE, { iss: 'https://evil.example.com' }));
    expect(e.reason).toBe('wrong_issuer');
    expect(e.facts.issuer).toBe('https://evil.example.com');
    expect(idp.jwksRequests).toBe(before);
  });

  describe('time', () => {
    const now = () => Math.floor(Date.now() / 1000);

    it('refuses an expired token, naming its principal', async () => {
      const e = await refusal(verifier(), await idp.mint(RESOURCE, { exp: now() - 120 }));
      expect(e.reason).toBe('expired');
      expect(e.facts.principalId).toBe(`oauth:${idp.issuer}#alice`);
    });

    it('allows OAUTH_CLOCK_SKEW_SECONDS of leeway on exp', async () => {
      const token = await idp.mint(RESOURCE, { exp: now() - 10 });
      await expect(verifier().verify(token)).resolves.toBeDefined();
      expect(await reasonOf(verifier({ OAUTH_CLOCK_SKEW_SECONDS: '0' }), token)).toBe('expired');
    });

    it('refuses a token not valid yet', async () => {
      expect(await reasonOf(verifier(), await idp.mint(RESOURCE, { nbf: now() + 600 }))).toBe('not_yet_valid');
    });

    it('refuses a token without exp', async () => {
      expect(await reasonOf(verifier(), await idp.mint(RESOURCE, { exp: undefined }))).toBe('missing_claim');
    });
  });

  it('refuses a token without a subject', async () => {
    expect(await reasonOf(verifier(), await idp.mint(RESOURCE, { sub: undefined }))).toBe('missing_claim');
  });

  describe('signature', () => {
    it('refuses a signature by another key under a published key id, naming no principal', async () => {
      for (const alg of ['ES256', 'RS256'] as const) {
        const e = await refusal(verifier(), await idp.mint(RESOURCE, {}, { alg, forged: true }));
        expect(e.reason).toBe('bad_signature');
        expect(e.facts.principalId).toBeUndefined();
      }
    });

    it('refuses a token signed by a key the JWKS does not hold', async () => {
      expect(await reasonOf(verifier(), await idp.mint(RESOURCE, {}, { kid: 'rotated-away' }))).toBe('unknown_key');
    });

    it('refuses a tampered payload', async () => {
      const [header, , signature] = (await idp.mint(RESOURCE)).split('.');
      const payload = Buffer.from(JSON.stringify({ iss: idp.issuer, sub: 'admin', aud: RESOURCE, exp: 4_000_000_000, scope: '*' })).toString('base64url');
      expect(await reasonOf(verifier(), `${header}.${payload}.${signature}`)).toBe('bad_signature');
    });

    it('refuses a shared-secret (HS256) token, whatever its claims', async () => {
      const token = await new SignJWT({ iss: idp.issuer, sub: 'alice', aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 60 })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .sign(new TextEncoder().encode('a-shared-secret-of-32-characters!'));
      expect(await reasonOf(verifier(), token)).toBe('unsupported_alg');
    });

    it('refuses an unsigned (alg none) token', async () => {
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const token = `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ iss: idp.issuer, sub: 'alice', aud: RESOURCE, exp: 4_000_000_000 })}.x`;
      expect(await reasonOf(verifier(), token)).toBe('unsupported_alg');
    });
  });

  it('refuses what is not a JWT', async () => {
    expect(await reasonOf(verifier(), 'abc.def.ghi')).toBe('malformed');
    const header = Buffer.from(JSON.stringify({ alg: 'ES256' })).toString('base64url');
    expect(await reasonOf(verifier(), `${header}.bm90LWpzb24.c2ln`)).toBe('malformed');
  });

  it('judges JWT-shaped tokens only, and none when OAuth is off', async () => {
    const token = await idp.mint(RESOURCE);
    expect(verifier().accepts(token)).toBe(true);
    expect(verifier().accepts('ptc_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG')).toBe(false);
    expect(verifier().accepts('my.static.token-0123456789')).toBe(false);
    const off = new OAuthTokenVerifier(loadConfig({}, '/srv'), { resourceUrl: RESOURCE } as ProtectedResourceService);
    expect(off.accepts(token)).toBe(false);
  });

  describe('verified tokens in memory', () => {
    it('answers a token it verified again from memory, and checks every new token in full', async () => {
      const v = verifier();
      const token = await idp.mint(RESOURCE, { jti: 'again' });
      const first = await v.verify(token);
      expect(await v.verify(token)).toBe(first);
      const forged = await idp.mint(RESOURCE, { jti: 'again' }, { forged: true });
      expect(await reasonOf(v, forged)).toBe('bad_signature');
    });

    it('still refuses a token of the built-in server at once when its grant is revoked', async () => {
      const jwks = (await (await fetch(idp.jwksUrl)).json()) as { keys: object[] };
      let active = true;
      const local = { jwks: () => jwks, grantActive: jest.fn(async () => active) } as unknown as LocalIssuer;
      const config = loadConfig({ OAUTH_SERVER: 'builtin', OAUTH_SERVER_SECRET: 'x'.repeat(48) }, '/srv');
      const v = new OAuthTokenVerifier(config, { resourceUrl: RESOURCE, baseUrl: idp.issuer } as ProtectedResourceService, local);
      const token = await idp.mint(RESOURCE, { grant_id: 'g1' });

      await v.verify(token);
      await v.verify(token);
      expect(local.grantActive).toHaveBeenCalledTimes(2);
      active = false;
      const refused = await refusal(v, token);
      expect(refused.reason).toBe('revoked');
      expect(refused.facts).toMatchObject({ issuer: idp.issuer, audience: RESOURCE, principalId: `oauth:${idp.issuer}#alice` });
    });
  });

  describe('JWKS', () => {
    it('fetches the keys once and serves later tokens from the cache', async () => {
      const v = verifier();
      const before = idp.jwksRequests;
      for (let i = 0; i < 3; i++) await v.verify(await idp.mint(RESOURCE, { jti: String(i) }));
      expect(idp.jwksRequests - before).toBe(1);
    });

    it('reports the keys unavailable when the JWKS was never fetched', async () => {
      idp.down = true;
      expect(await reasonOf(verifier(), await idp.mint(RESOURCE))).toBe('jwks_unavailable');
    });

    it('keeps verifying with the last keys while the JWKS is unreachable', async () => {
      const v = verifier({ OAUTH_JWKS_CACHE_SECONDS: '1' });
      await v.verify(await idp.mint(RESOURCE));
      idp.down = true;
      await new Promise((r) => setTimeout(r, 1100));
      const before = idp.jwksRequests;

      await expect(v.verify(await idp.mint(RESOURCE, { jti: 'later' }))).resolves.toBeDefined();
      expect(idp.jwksRequests).toBeGreaterThan(before);
      // Stale keys still check signatures.
      expect(await reasonOf(v, await idp.mint(RESOURCE, {}, { forged: true }))).toBe('bad_signature');
    });
  });
});
