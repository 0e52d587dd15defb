import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { Request } from 'express';

/** The modern era's revision (the SDK's SUPPORTED_PROTOCOL_VERSIONS lists the legacy ones). */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';
const MODERN = MODERN_PROTOCOL_VERSION;
const LEGACY_VERSIONS = SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v < MODERN);
const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';
const CLIENT_INFO_META = 'io.modelcontextprotocol/clientInfo';

export type ClientQuirk = 'modern-header-in-legacy-session' | 'legacy-header-with-modern-body' | 'header-differs-from-session';

export interface QuirkFix {
  quirk: ClientQuirk;
  /** The header as the client sent it, and as Portico now reads it. */
  sent: string;
  used: string;
  client?: string;
}

interface Body {
  params?: { _meta?: Record<string, unknown> };
}

/**
 * Shipped clients that send a `MCP-Protocol-Version` header disagreeing with
 * the era of their body, and what Portico does about it (when
 * `MCP_CLIENT_QUIRKS` is on):
 *
 * - claude.ai, after a legacy handshake, sends `2026-07-28` on requests of its
 *   legacy session (no modern `_meta` envelope): the header is read as the
 *   session's negotiated version.
 * - Claude Code sends header `2025-11-25` with a modern `_meta` envelope and no
 *   session: the header is read as the envelope's version.
 * - A client that names another legacy revision than its session negotiated
 *   (the 0.1.16 conformance suite reconnects a 2025-11-25 session with
 *   `2025-03-26`): the session's negotiated version wins, so the stream gets
 *   the behaviour the session agreed on (priming events, retry).
 *
 * Anything else is left for the SDK to judge (and reject). Mutates
 * `req.headers`; returns what it changed, for the log.
 */
export function alignProtocolVersionHeader(req: Request, sessionVersion: string | undefined): QuirkFix | undefined {
  const header = req.headers['mcp-protocol-version'];
  const body = (req.body ?? {}) as Body; // GET and DELETE have none
  if (typeof header !== 'string' || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const meta = body.params?._meta;
  const envelopeVersion = meta?.[PROTOCOL_VERSION_META];
  const client = (meta?.[CLIENT_INFO_META] as { name?: string } | undefined)?.name;
  const sessionId = req.headers['mcp-session-id'];

  if (sessionId && header === MODERN && envelopeVersion === undefined && sessionVersion && sessionVersion !== MODERN) {
    req.headers['mcp-protocol-version'] = sessionVersion;
    return { quirk: 'modern-header-in-legacy-session', sent: header, used: sessionVersion, client };
  }
  if (sessionId && sessionVersion && envelopeVersion === undefined && header !== sessionVersion && LEGACY_VERSIONS.includes(header)) {
    req.headers['mcp-protocol-version'] = sessionVersion;
    return { quirk: 'header-differs-from-session', sent: header, used: sessionVersion, client };
  }
  if (!sessionId && envelopeVersion === MODERN && LEGACY_VERSIONS.includes(header)) {
    req.headers['mcp-protocol-version'] = envelopeVersion;
    return { quirk: 'legacy-header-with-modern-body', sent: header, used: envelopeVersion, client };
  }
  return undefined;
}
