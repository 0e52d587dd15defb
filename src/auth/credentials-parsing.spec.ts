import { looksLikeApiKey } from './api-key.service';
import { parseBasic } from './basic.strategy';
import { userAccount } from './users.service';
import { CredentialsError, parseScopes } from './verification';

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('credential parsing', () => {
  describe('parseBasic', () => {
    it('splits at the first colon, so passwords may hold colons (RFC 7617)', () => {
      expect(parseBasic(basic('alice:pa:ss:word'))).toEqual({ username: 'alice', password: 'pa:ss:word' });
      expect(parseBasic(basic('alice:'))).toEqual({ username: 'alice', password: '' });
      expect(parseBasic(basic('Zoë:pässwörd'))).toEqual({ username: 'Zoë', password: 'pässwörd' });
    });

    it.each([undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', basic('no-colon')])('ignores %p', (header) => {
      expect(parseBasic(header)).toBeUndefined();
    });
  });

  it('names a claimed user printably and boundedly, for the audit log', () => {
    expect(userAccount('alice')).toBe('user:alice');
    expect(userAccount('a\nb\u0000c d')).toBe('user:a?b?c?d');
    expect(userAccount('x'.repeat(500))).toHaveLength(5 + 64);
  });

  it('tells API keys from other bearer tokens by their prefix', () => {
    expect(looksLikeApiKey('ptk_1a2b3c4d_abc')).toBe(true);
    expect(looksLikeApiKey('ptc_generatedStaticToken')).toBe(false);
  });

  describe('parseScopes', () => {
    it('takes a comma- or space-separated list, deduplicated', () => {
      expect(parseScopes('reports:read, tickets:write reports:read')).toEqual(['reports:read', 'tickets:write']);
      expect(parseScopes(undefined)).toEqual([]);
      expect(parseScopes('*')).toEqual(['*']);
    });

    it.each([['*,reports:read', /give it alone/], ['reports;drop', /invalid scope "reports;drop"/]])('refuses %s', (text, message) => {
      expect(() => parseScopes(text)).toThrow(CredentialsError);
      expect(() => parseScopes(text)).toThrow(message);
    });
  });
});
