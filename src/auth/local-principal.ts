import type { Principal } from '@portico/mcp-core';
import { userInfo } from 'node:os';

/** The name of the operating-system user running this process. */
export function osUserName(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (a container started with an arbitrary uid).
    return process.env.USER || process.env.USERNAME || `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/**
 * The caller of `portico stdio`: the local user who started the process (the
 * client spawned it as that user, so there is nothing to authenticate). Gets
 * every scope, like a static token.
 */
export function localPrincipal(): Principal {
  const user = osUserName();
  return { id: `stdio:${user}`, kind: 'user', displayName: user, scopes: ['*'], authMethod: 'stdio' };
}
