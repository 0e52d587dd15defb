import { claudeCallbackPair, redirectUriAllowedBeyondExact, sameLoopbackIgnoringPort } from './redirect-uri';

describe('redirect URIs beyond exact matching', () => {
  it.each([
    ['http://127.0.0.1:54321/callback', 'http://127.0.0.1/callback'],
    ['http://127.0.0.1:54321/callback', 'http://127.0.0.1:3000/callback'],
    ['http://[::1]:8080/cb?x=1', 'http://[::1]/cb?x=1'],
    ['http://localhost:9999/callback', 'http://localhost/callback'],
  ])('accepts the loopback redirect %s for a registered %s (RFC 8252: any port)', (presented, registered) => {
    expect(sameLoopbackIgnoringPort(presented, registered)).toBe(true);
  });

  it.each([
    ['another path', 'http://127.0.0.1:54321/other', 'http://127.0.0.1/callback'],
    ['another query', 'http://127.0.0.1:54321/callback?a=2', 'http://127.0.0.1/callback?a=1'],
    ['another loopback host', 'http://localhost:54321/callback', 'http://127.0.0.1/callback'],
    ['https', 'https://127.0.0.1:54321/callback', 'https://127.0.0.1/callback'],
    ['a non-loopback host', 'http://example.com:8080/callback', 'http://example.com/callback'],
    ['credentials', 'http://user:pw@127.0.0.1:5/callback', 'http://127.0.0.1/callback'],
    ['a fragment', 'http://127.0.0.1:5/callback#x', 'http://127.0.0.1/callback'],
    ['garbage', 'not a url', 'http://127.0.0.1/callback'],
  ])('refuses %s', (_, presented, registered) => {
    expect(sameLoopbackIgnoringPort(presented, registered)).toBe(false);
  });

  it("treats Claude's two connector callbacks as one, and nothing else", () => {
    expect(claudeCallbackPair('https://claude.com/api/mcp/auth_callback', ['https://claude.ai/api/mcp/auth_callback'])).toBe(true);
    expect(claudeCallbackPair('https://claude.ai/api/mcp/auth_callback', ['https://claude.com/api/mcp/auth_callback'])).toBe(true);
    expect(claudeCallbackPair('https://claude.com/api/mcp/auth_callback', ['https://app.example.com/cb'])).toBe(false);
    expect(claudeCallbackPair('https://claude.com/api/other', ['https://claude.ai/api/mcp/auth_callback'])).toBe(false);
    expect(redirectUriAllowedBeyondExact('https://evil.example.com/cb', ['https://claude.ai/api/mcp/auth_callback', 'http://127.0.0.1/cb'])).toBe(false);
  });
});
