import { authorizationServerMetadataUrls, canonicalUrl, isLoopbackHost, parseChallenge, protectedResourceUrls } from './doctor';
import { type CheckResult, formatReport, summarize } from './doctor-report';
import { jsonRpcAnswer, modernRequest } from './mcp-messages';

const check = (id: string, status: CheckResult['status'], required = true, hint?: string): CheckResult => ({ id, title: id, status, required, detail: `${id} detail`, hint });

describe('portico doctor', () => {
  it('compares against the URL without trailing slash or fragment, as tokens name it', () => {
    expect(canonicalUrl('https://mcp.example.com/mcp/')).toBe('https://mcp.example.com/mcp');
    expect(canonicalUrl('https://MCP.example.com/portico/mcp#x')).toBe('https://mcp.example.com/portico/mcp');
  });

  it('derives both protected-resource metadata URLs (RFC 9728 path form and root form)', () => {
    expect(protectedResourceUrls('https://h.example/mcp')).toEqual({
      pathForm: 'https://h.example/.well-known/oauth-protected-resource/mcp',
      rootForm: 'https://h.example/.well-known/oauth-protected-resource',
    });
    expect(protectedResourceUrls('https://h.example/portico/mcp').pathForm).toBe('https://h.example/.well-known/oauth-protected-resource/portico/mcp');
  });

  it('looks for authorization server metadata where MCP clients do (RFC 8414 path insertion, then OIDC)', () => {
    expect(authorizationServerMetadataUrls('https://h.example')).toEqual([
      'https://h.example/.well-known/oauth-authorization-server',
      'https://h.example/.well-known/openid-configuration',
    ]);
    expect(authorizationServerMetadataUrls('https://h.example/portico')).toEqual([
      'https://h.example/.well-known/oauth-authorization-server/portico',
      'https://h.example/.well-known/openid-configuration/portico',
      'https://h.example/portico/.well-known/openid-configuration',
    ]);
  });

  it('reads resource_metadata and scope from joined challenges, Bearer or not', () => {
    const both = 'Bearer realm="Portico", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", scope="a b", Basic realm="Portico"';
    expect(parseChallenge(both)).toEqual({ bearer: true, resourceMetadata: 'https://h/.well-known/oauth-protected-resource/mcp', scope: 'a b', error: undefined });
    expect(parseChallenge('Basic realm="Restricted"')).toEqual({ bearer: false, resourceMetadata: undefined, scope: undefined, error: undefined });
    expect(parseChallenge(undefined).bearer).toBe(false);
  });

  it('knows loopback hosts (plain http is fine there)', () => {
    expect(['localhost', '127.0.0.1', '127.1.2.3', '[::1]'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(isLoopbackHost('mcp.example.com')).toBe(false);
  });

  it('finds the JSON-RPC answer in a JSON body or among SSE events', () => {
    expect(jsonRpcAnswer('{"jsonrpc":"2.0","id":3,"result":{"tools":[]}}', 'application/json', 3)?.result).toEqual({ tools: [] });
    const sse = 'id: a/1\nretry: 1000\ndata: \n\nevent: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\nevent: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"ok":true}}\n\n';
    expect(jsonRpcAnswer(sse, 'text/event-stream', 1)?.result).toEqual({ ok: true });
    expect(jsonRpcAnswer(sse, 'text/event-stream', 2)).toBeUndefined();
  });

  it('sends the modern era its headers and per-request _meta', () => {
    const req = modernRequest(1, 'tools/call', { name: 'x' }, 'x');
    expect(req.headers).toMatchObject({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'x' });
    expect(JSON.parse(req.body).params._meta['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
  });

  it('is ok only when no required check fails; warnings, skips and optional failures do not count', () => {
    expect(summarize('u', [check('a', 'pass'), check('b', 'warn', false), check('c', 'skip', false), check('d', 'fail', false)], 1).ok).toBe(true);
    expect(summarize('u', [check('a', 'pass'), check('e', 'fail')], 1).ok).toBe(false);
  });

  it('prints one line per check and the fix under failures and warnings', () => {
    const text = formatReport(summarize('https://h/mcp', [check('tls', 'pass'), check('no-redirect', 'fail', true, 'use location = /mcp'), check('x', 'skip', false, 'never shown')], 1500));
    expect(text).toContain('PASS  tls          tls detail');
    expect(text).toContain('FAIL  no-redirect  no-redirect detail\n                   fix: use location = /mcp');
    expect(text).not.toContain('never shown');
    expect(text.trimEnd().split('\n').pop()).toBe('NOT OK: 1 pass, 1 fail, 0 warn, 1 skipped (1.5 s)');
  });
});
