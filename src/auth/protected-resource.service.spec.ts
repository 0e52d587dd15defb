import { McpRegistry, type Principal } from '@portico/mcp-core';
import { loadConfig } from '../config/app-config';
import { ProtectedResourceService } from './protected-resource.service';

const OAUTH = { OAUTH_ISSUERS: 'https://idp.example.com', OAUTH_JWKS_URL: 'https://idp.example.com/jwks' };

function registryWith(tools: { name: string; scopes?: string[] }[]): McpRegistry {
  const registry = new McpRegistry();
  for (const { name, scopes } of tools) {
    registry.addTool({ name, namespace: 'notes', source: `Notes.${name}`, definition: { name, description: name, scopes }, handler: () => 'ok' });
  }
  return registry;
}

const tools = [{ name: 'read_note', scopes: ['notes:read'] }, { name: 'write_note', scopes: ['notes:read', 'notes:write'] }, { name: 'ping' }];

function service(env: Record<string, string> = {}, registry = registryWith(tools)): ProtectedResourceService {
  return new ProtectedResourceService(loadConfig(env, '/srv'), registry);
}

const oauthUser = (scopes: string[]): Principal => ({ id: 'oauth:https://idp.example.com#alice', kind: 'user', displayName: 'Alice', scopes, authMethod: 'oauth' });
const call = (name: string) => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {} } });

describe('ProtectedResourceService', () => {
  describe('canonical resource URL', () => {
    it('defaults to http://HOST:PORT/mcp, with the bound port once listening', () => {
      const s = service({ PORT: '0' });
      s.listening(40123);
      expect(s.resourceUrl).toBe('http://127.0.0.1:40123/mcp');
      expect(s.metadataUrl).toBe('http://127.0.0.1:40123/.well-known/oauth-protected-resource/mcp');
    });

    it('brackets an IPv6 host', () => {
      expect(service({ HOST: '::1', PORT: '9000' }).resourceUrl).toBe('http://[::1]:9000/mcp');
    });

    it('is PUBLIC_BASE_URL + /mcp behind a proxy, with the metadata path under the prefix (RFC 9728)', () => {
      const s = service({ PUBLIC_BASE_URL: 'https://MCP.example.com/portico/' });
      expect(s.resourceUrl).toBe('https://mcp.example.com/portico/mcp');
      expect(s.metadataUrl).toBe('https://mcp.example.com/.well-known/oauth-protected-resource/portico/mcp');
      expect(s.metadataPaths).toEqual([
        '/.well-known/oauth-protected-resource',
        '/.well-known/oauth-protected-resource/mcp',
        '/.well-known/oauth-protected-resource/portico/mcp',
      ]);
    });
  });

  describe('metadata', () => {
    it('names the issuers and every declared scope when OAuth is on', () => {
      expect(service({ ...OAUTH, PUBLIC_BASE_URL: 'https://mcp.example.com', OAUTH_SCOPES: 'openid' }).metadata()).toEqual({
        resource: 'https://mcp.example.com/mcp',
        authorization_servers: ['https://idp.example.com'],
        scopes_supported: ['notes:read', 'notes:write', 'openid'],
        bearer_methods_supported: ['header'],
        resource_name: 'Portico',
      });
    });

    it('names no authorization server when OAuth is off', () => {
      expect(service({ PUBLIC_BASE_URL: 'https://mcp.example.com' }).metadata()).not.toHaveProperty('authorization_servers');
    });

    it('lists scopes as the IdP names them', () => {
      const s = service({ ...OAUTH, OAUTH_SCOPE_MAP: 'api://portico/notes.write=notes:write' });
      expect(s.scopesSupported()).toEqual(['api://portico/notes.write', 'notes:read']);
    });
  });

  describe('401 challenge', () => {
    const url = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

    it('always points at the metadata; adds the scopes of the tool set when OAuth is on', () => {
      const base = { PUBLIC_BASE_URL: 'https://mcp.example.com' };
      expect(service(base).unauthorizedChallenge()).toBe(`Bearer realm="Portico", resource_metadata="${url}"`);
      expect(service({ ...base, ...OAUTH }).unauthorizedChallenge()).toBe(`Bearer realm="Portico", resource_metadata="${url}", scope="notes:read notes:write"`);
      expect(service({ ...base, ...OAUTH }).unauthorizedChallenge('invalid_token')).toBe(
        `Bearer realm="Portico", error="invalid_token", resource_metadata="${url}", scope="notes:read notes:write"`,
      );
    });

    it('asks for OAUTH_SCOPES when set', () => {
      expect(service({ PUBLIC_BASE_URL: 'https://mcp.example.com', ...OAUTH, OAUTH_SCOPES: 'mcp' }).unauthorizedChallenge()).toBe(
        `Bearer realm="Portico", resource_metadata="${url}", scope="mcp"`,
      );
    });
  });

  describe('step-up challenge', () => {
    const s = () => service({ ...OAUTH, PUBLIC_BASE_URL: 'https://mcp.example.com' });
    const url = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

    it('names the scopes granted plus those the tool needs', () => {
      expect(s().insufficientScopeChallenge(call('write_note'), oauthUser(['openid', 'notes:read']))).toBe(
        `Bearer error="insufficient_scope", scope="openid notes:read notes:write", resource_metadata="${url}"`,
      );
    });

    it('lets the call through with the scopes, for tools without scopes, unknown tools and other methods', () => {
      expect(s().insufficientScopeChallenge(call('write_note'), oauthUser(['notes:read', 'notes:write']))).toBeUndefined();
      expect(s().insufficientScopeChallenge(call('ping'), oauthUser([]))).toBeUndefined();
      expect(s().insufficientScopeChallenge(call('no_such_tool'), oauthUser([]))).toBeUndefined();
      expect(s().insufficientScopeChallenge({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, oauthUser([]))).toBeUndefined();
      expect(s().insufficientScopeChallenge(undefined, oauthUser([]))).toBeUndefined();
    });

    it('never challenges other principals: for them the tool does not exist', () => {
      for (const authMethod of ['bearer', 'api_key', 'basic'] as const) {
        expect(s().insufficientScopeChallenge(call('write_note'), { ...oauthUser(['notes:read']), authMethod })).toBeUndefined();
      }
    });

    it('names scopes as the IdP does', () => {
      const mapped = service({ ...OAUTH, PUBLIC_BASE_URL: 'https://mcp.example.com', OAUTH_SCOPE_MAP: 'api://portico/notes.write=notes:write' });
      expect(mapped.insufficientScopeChallenge(call('write_note'), oauthUser(['notes:read']))).toBe(
        `Bearer error="insufficient_scope", scope="notes:read api://portico/notes.write", resource_metadata="${url}"`,
      );
    });
  });
});
