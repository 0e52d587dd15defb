import { classifyInboundRequest } from '@modelcontextprotocol/server';
import type { Request } from 'express';

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Whether a POST on `/mcp` is legacy-era traffic: the SDK's own rule
 * (`classifyInboundRequest`, the step behind `isLegacyRequest` and
 * `createMcpHandler`'s routing), given the body the JSON parser produced and
 * the three standard headers. No web `Request` is built for it: that copy of
 * every header and of the body cost more than the rest of the routing.
 * A POST without a JSON body classifies as `{}` would (legacy).
 */
export function isLegacyPost(req: Request): boolean {
  return (
    classifyInboundRequest({
      httpMethod: 'POST',
      protocolVersionHeader: header(req, 'mcp-protocol-version'),
      mcpMethodHeader: header(req, 'mcp-method'),
      mcpNameHeader: header(req, 'mcp-name'),
      body: req.body ?? {},
    }).kind === 'legacy'
  );
}
