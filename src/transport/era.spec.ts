import { toWebRequest } from '@modelcontextprotocol/node';
import { isLegacyRequest } from '@modelcontextprotocol/server';
import type { Request } from 'express';
import { isLegacyPost } from './era';

const MODERN = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
const call = (params: Record<string, unknown>) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {}, ...params } });

/** [what, headers, body]: both eras, the SDK's rejection cells, and bodies the JSON parser may leave behind. */
const CASES: [string, Record<string, string>, unknown][] = [
  ['initialize', {}, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }],
  ['legacy tools/call in a session', { 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': 's' }, call({})],
  ['legacy notification', { 'mcp-protocol-version': '2025-11-25' }, { jsonrpc: '2.0', method: 'notifications/initialized' }],
  ['posted response', {}, { jsonrpc: '2.0', id: 3, result: {} }],
  ['legacy batch', {}, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]],
  ['modern tools/call', { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, call({ _meta: meta })],
  ['modern without headers', {}, call({ _meta: meta })],
  ['modern header, no envelope', { 'mcp-protocol-version': MODERN }, call({})],
  ['header/body method mismatch', { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list', 'mcp-name': 'echo' }, call({ _meta: meta })],
  ['unknown modern revision', { 'mcp-protocol-version': '2099-01-01' }, call({ _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } })],
  ['malformed envelope', { 'mcp-protocol-version': MODERN }, call({ _meta: { 'io.modelcontextprotocol/protocolVersion': 42 } })],
  ['server/discover', { 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' }, { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } }],
  ['no body', {}, undefined],
  ['empty object', {}, {}],
];

describe('isLegacyPost', () => {
  it.each(CASES)('routes %s as the SDK does', async (_what, headers, body) => {
    const req = { method: 'POST', url: '/mcp', headers: { host: '127.0.0.1', 'content-type': 'application/json', ...headers }, body } as unknown as Request;
    // The oracle: how the controller classified before, through a web Request.
    const expected = await isLegacyRequest(await toWebRequest(req, req.body ?? {}), req.body);
    expect(isLegacyPost(req)).toBe(expected);
  });

  it('tells the eras apart', () => {
    const post = (headers: Record<string, string>, body: unknown) => isLegacyPost({ headers, body } as unknown as Request);
    expect(post({}, CASES[0][2])).toBe(true);
    expect(post(CASES[5][1], CASES[5][2])).toBe(false);
  });
});
