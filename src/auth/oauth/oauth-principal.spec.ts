import { type AccessTokenClaims, oauthPrincipal, tokenClientId, tokenScopes } from './oauth-principal';
import { externalScope, porticoScopes } from './scope-map';

const base: AccessTokenClaims = { iss: 'https://idp.example.com', sub: 'u-1', exp: 2_000_000_000 };

describe('OAuth principal mapping', () => {
  it('identifies the principal by issuer and subject, so every token of one user maps to one id', () => {
    const a = oauthPrincipal({ ...base, scope: 'a', jti: '1' }, []);
    const b = oauthPrincipal({ ...base, scope: 'a b', jti: '2' }, []);
    expect(a.id).toBe('oauth:https://idp.example.com#u-1');
    expect(b.id).toBe(a.id);
    expect(oauthPrincipal({ ...base, iss: 'https://other.example.com' }, []).id).not.toBe(a.id);
  });

  it.each([
    ['scope, space-separated (RFC 9068, Keycloak, Auth0)', { scope: 'notes:read  notes:write' }, ['notes:read', 'notes:write']],
    ['scp as an array (Okta)', { scp: ['notes:read', 'notes:write'] }, ['notes:read', 'notes:write']],
    ['scp as a string (Entra ID)', { scp: 'notes.read notes.write' }, ['notes.read', 'notes.write']],
    ['both, merged', { scope: 'a b', scp: ['b', 'c'] }, ['a', 'b', 'c']],
    ['neither', {}, []],
    ['junk types', { scope: 42, scp: [1, 'ok', null] }, ['ok']],
  ])('reads scopes from %s', (_, claims, scopes) => {
    expect(tokenScopes(claims as Record<string, unknown>)).toEqual(scopes);
  });

  it.each([
    [{ name: 'Ada Lovelace', preferred_username: 'ada', email: 'ada@example.com' }, 'Ada Lovelace'],
    [{ preferred_username: 'ada', email: 'ada@example.com' }, 'ada'],
    [{ email: 'ada@example.com' }, 'ada@example.com'],
    [{ upn: 'ada@corp.example.com' }, 'ada@corp.example.com'],
    [{ name: '  ' }, 'u-1'],
    [{}, 'u-1'],
  ])('names %j as %s', (claims, displayName) => {
    expect(oauthPrincipal({ ...base, ...claims }, []).displayName).toBe(displayName);
  });

  it('is a user, with auth method oauth and no wildcard scope', () => {
    expect(oauthPrincipal({ ...base, scope: '*', client_id: 'claude' }, [])).toMatchObject({ kind: 'user', authMethod: 'oauth', scopes: ['*'] });
  });

  it('is a service when the subject is the client itself (client-credentials grant)', () => {
    expect(oauthPrincipal({ ...base, sub: 'svc-app', azp: 'svc-app' }, []).kind).toBe('service');
  });

  it('finds the client id in client_id, azp, cid or appid', () => {
    expect(tokenClientId({ client_id: 'a', azp: 'b' })).toBe('a');
    expect(tokenClientId({ azp: 'b' })).toBe('b');
    expect(tokenClientId({ cid: 'c' })).toBe('c');
    expect(tokenClientId({ appid: 'd' })).toBe('d');
    expect(tokenClientId({})).toBeUndefined();
  });

  describe('OAUTH_SCOPE_MAP', () => {
    const map = [
      { external: 'api://portico/notes.read', portico: 'notes:read' },
      { external: 'files.rw', portico: 'files:write' },
      { external: 'files.rw', portico: 'files:read' },
    ];

    it('grants the mapped Portico scopes and keeps unmapped ones', () => {
      expect(porticoScopes(['files.rw', 'openid'], map)).toEqual(['files:write', 'files:read', 'openid']);
    });

    it('matches a URI-shaped scope by its last segment, as Entra ID writes it in scp', () => {
      expect(porticoScopes(['api://portico/notes.read'], map)).toEqual(['notes:read']);
      expect(porticoScopes(['notes.read'], map)).toEqual(['notes:read']);
      expect(oauthPrincipal({ ...base, scp: 'notes.read' }, map).scopes).toEqual(['notes:read']);
    });

    it('names a Portico scope as the IdP does for challenges', () => {
      expect(externalScope('notes:read', map)).toBe('api://portico/notes.read');
      expect(externalScope('files:read', map)).toBe('files.rw');
      expect(externalScope('unmapped', map)).toBe('unmapped');
    });
  });
});
