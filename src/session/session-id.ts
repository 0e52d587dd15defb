import { randomBytes } from 'node:crypto';

/** Bytes of randomness in a session id (192 bits). */
export const SESSION_ID_BYTES = 24;

/** A new session id (legacy `/mcp`, its roaming variant and HTTP+SSE): 24 bytes from the CSPRNG as base64url, 32 characters. */
export function newSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString('base64url');
}
