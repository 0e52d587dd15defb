import { hashPassword } from '../../src/auth/password-hash';
import { AS_SECRET } from '../support/authorization-server';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { ACCEPT, initialize, LEGACY } from '../support/raw-mcp';
import { ProbeToolsModule } from '../support/test-tools';

export const MODERN = '2026-07-28';
export const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } };
export const BASIC_USER = { name: 'hostile-ops', password: 'hostile ops password 0123' };
export const ADMIN_TOKEN = 'hostile-admin-token-0123456789abcdef';
export const METRICS_TOKEN = 'hostile-metrics-token-0123456789abcdef';
export const REQUEST_STATE_KEY = 'hostile-request-state-key-0123456789abcdef';
/** Small enough that "oversized" is cheap, large enough for 100 KB strings. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * Portico as the hostile suites meet it: every credential kind and the
 * built-in authorization server on, lockout and rate limits high enough that
 * a corpus of wrong credentials from one address is answered, not throttled.
 */
export async function bootHostilePortico(env: Record<string, string> = {}): Promise<TestPortico> {
  return bootPortico(
    {
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      AUTH_BASIC_USERS: `${BASIC_USER.name}:${await hashPassword(BASIC_USER.password, { ln: 10, r: 8, p: 1 })}`,
      AUTH_MAX_FAILURES: '100000',
      AUTH_MAX_FAILURES_PER_IP: '100000',
      RATE_LIMIT_REQUESTS: '0',
      STATUS_ADMIN_TOKEN: ADMIN_TOKEN,
      METRICS_TOKEN,
      REQUEST_STATE_KEY,
      OAUTH_SERVER: 'builtin',
      OAUTH_SERVER_SECRET: AS_SECRET,
      OAUTH_SERVER_RATE_LIMITS: 'register=100000/60,token=100000/60,authorize=100000/60,login=100000/60',
      ...env,
    },
    [ProbeToolsModule],
  );
}

/** Opens a raw legacy session for `token` (initialize + initialized); returns its id. */
export async function openLegacySession(mcpUrl: string, token: string): Promise<string> {
  const res = await fetch(mcpUrl, { method: 'POST', headers: { ...ACCEPT, ...bearer(token) }, body: JSON.stringify(initialize) });
  await res.text();
  const id = res.headers.get('mcp-session-id');
  if (res.status !== 200 || !id) throw new Error(`initialize answered ${res.status}`);
  const ack = await fetch(mcpUrl, {
    method: 'POST',
    headers: { ...ACCEPT, ...bearer(token), 'Mcp-Session-Id': id, 'MCP-Protocol-Version': LEGACY },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await ack.text();
  return id;
}

/** A genuine signed requestState from round two of `greet_user` (modern era), minted for alice. */
export async function mintRequestState(mcpUrl: string): Promise<string> {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { ...ACCEPT, ...bearer(TOKENS.alice), 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'greet_user' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'greet_user', arguments: {}, inputResponses: { name: { action: 'accept', content: { name: 'Eve' } } }, _meta: MODERN_META },
    }),
  });
  const body = (await res.json()) as { result?: { requestState?: string } };
  if (!body.result?.requestState) throw new Error(`no requestState: ${JSON.stringify(body)}`);
  return body.result.requestState;
}
