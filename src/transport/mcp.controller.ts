import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { ProtectedResourceService } from '../auth/protected-resource.service';
import { JsonRpcCode, rejectBatch, sendJsonRpcError } from '../common/json-rpc-error';
import { rememberTool } from '../common/request-context';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { alignProtocolVersionHeader } from './client-quirks';
import { isLegacyPost } from './era';
import { LegacySessionsService } from './legacy-sessions.service';
import { ModernHandlerService } from './modern-handler.service';
import { StreamLimiter } from './stream-limiter.service';

/**
 * `/mcp`, both protocol eras. Each POST is classified by the SDK: modern
 * (2026-07-28) traffic goes to the stateless handler, legacy traffic to the
 * sessions. GET and DELETE exist only in the legacy era. An OAuth caller
 * short of a tool's scopes gets 403 `insufficient_scope` first, in either era.
 *
 * Not routed by Nest: `applyHttpPipeline` mounts `/mcp` on express ahead of
 * Nest's router (see `mcpRoute` there), after the app's guards (auth, then rate limits).
 */
@Injectable()
export class McpController {
  private readonly logger = new Logger('McpController');

  constructor(
    private readonly modern: ModernHandlerService,
    private readonly legacy: LegacySessionsService,
    private readonly resource: ProtectedResourceService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly streams: StreamLimiter,
  ) {}

  async post(req: Request, res: Response, principal: Principal): Promise<void> {
    if (rejectBatch(req, res)) return;
    if (this.refuseInsufficientScope(req, res, principal)) return;
    if (this.config.mcp.clientQuirks) await this.tolerateQuirks(req);
    const legacy = isLegacyPost(req);
    this.metrics.mcpRequest((req.body as { method?: unknown } | undefined)?.method, legacy ? 'legacy' : 'modern');
    rememberTool(req.body);
    const body = req.body as { method?: unknown; id?: unknown } | undefined;
    if (!legacy && body?.method === 'subscriptions/listen' && !this.streams.admit('listen', principal, res, body.id)) return;
    if (legacy) await this.legacy.post(req, res, principal);
    else await this.modern.handle(req, res, principal);
  }

  async get(req: Request, res: Response, principal: Principal): Promise<void> {
    if (this.config.mcp.clientQuirks) await this.tolerateQuirks(req);
    if (!this.streams.admit('mcp_get', principal, res)) return;
    await this.legacy.other(req, res, principal);
  }

  async delete(req: Request, res: Response, principal: Principal): Promise<void> {
    if (this.config.mcp.clientQuirks) await this.tolerateQuirks(req);
    await this.legacy.other(req, res, principal);
  }

  /**
   * Step-up (MCP 2025-11-25): a `tools/call` by an OAuth principal without the
   * tool's scopes is answered 403 with the scopes to request, before any era
   * routing, so both eras answer alike. Other principals are not challenged:
   * for them the tool does not exist (JSON-RPC invalid params).
   */
  private refuseInsufficientScope(req: Request, res: Response, principal: Principal): boolean {
    const challenge = this.resource.insufficientScopeChallenge(req.body, principal);
    if (!challenge) return false;
    const tool = (req.body as { params: { name: string } }).params.name;
    this.logger.log({ tool, principalId: principal.id }, 'tool call refused: insufficient scope');
    this.audit.record({
      kind: 'tool_call',
      outcome: 'denied',
      principalId: principal.id,
      authMethod: principal.authMethod,
      // As presented: the refusal comes before the session is looked up.
      sessionId: typeof req.headers['mcp-session-id'] === 'string' ? req.headers['mcp-session-id'] : undefined,
      tool,
      errorCode: 'insufficient_scope',
      errorMessage: 'the token lacks scopes this tool needs',
      detail: { granted: principal.scopes },
    });
    sendJsonRpcError(res, 403, JsonRpcCode.ServerError, `Insufficient scope: ${tool} needs scopes this token was not granted`, {
      'WWW-Authenticate': challenge,
    });
    return true;
  }

  /** Accepts the known header/body era mismatches of shipped clients (see client-quirks.ts), and logs each. */
  private async tolerateQuirks(req: Request): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    const sessionVersion = typeof sessionId === 'string' ? await this.legacy.protocolVersionOf(sessionId) : undefined;
    const fix = alignProtocolVersionHeader(req, sessionVersion);
    if (fix) this.logger.log({ ...fix, userAgent: req.headers['user-agent'] }, `accepted client quirk ${fix.quirk}`);
  }
}
