import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { McpRegistry, type Principal } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig, type ToolRateLimit } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';

type AuthedRequest = Request & { user?: Principal };

interface ToolCall {
  name: string;
  era: 'legacy' | 'modern';
}

const MODERN_VERSION_META = 'io.modelcontextprotocol/protocolVersion';

/** The tool a `tools/call` request names, if the body is one. */
function toolCallOf(req: Request): ToolCall | undefined {
  const body = req.body as { method?: unknown; params?: { name?: unknown; _meta?: Record<string, unknown> } } | undefined;
  if (req.method !== 'POST' || !body || typeof body !== 'object' || Array.isArray(body) || body.method !== 'tools/call') return undefined;
  const name = body.params?.name;
  if (typeof name !== 'string') return undefined;
  return { name, era: body.params?._meta?.[MODERN_VERSION_META] === undefined ? 'legacy' : 'modern' };
}

/**
 * Rate limits of the MCP app, a global guard that runs after the auth guard:
 *
 * - the request limit (`RATE_LIMIT_REQUESTS` per `RATE_LIMIT_WINDOW_SECONDS`)
 *   counts every request of a principal, on any route, in one budget;
 * - a tool's limit (`RATE_LIMIT_TOOLS`, else `@Tool({ rateLimit })`) counts
 *   that principal's `tools/call` requests of that tool.
 *
 * The tracker is the principal; requests without one (public routes, or
 * everyone when AUTH_DISABLED) are tracked by client IP, which honours
 * TRUST_PROXY. Over a limit: 429 with `Retry-After` (seconds), and a refused
 * tool call is audited with outcome `rate_limited`. Requests refused by
 * authentication never get here: failed-credential lockout is the auth
 * module's business, not this guard's. Counters live in the throttler storage
 * (memory; Redis behind the same `ThrottlerStorage` token for a fleet).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly registry: McpRegistry,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(options, storage, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    await super.canActivate(context);
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const call = toolCallOf(req);
    const limit = call && this.limitOf(call.name);
    if (!call || !limit) return true;
    const tracker = await this.getTracker(req as unknown as Record<string, unknown>);
    const key = `tool:${call.name}:${tracker}`;
    const hit = await this.storageService.increment(key, limit.windowMs, limit.limit, limit.windowMs, 'tool');
    if (hit.isBlocked) {
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(hit.timeToBlockExpire));
      this.refused(req, 'tool', call, limit, hit.timeToBlockExpire);
      throw new ThrottlerException(
        `Rate limit exceeded for ${call.name}: at most ${limit.limit} calls per ${limit.windowMs / 1000} s; retry in ${hit.timeToBlockExpire} s`,
      );
    }
    return true;
  }

  /** The principal, else the client IP (express's `req.ip`: the forwarded one behind TRUST_PROXY hops). */
  protected override async getTracker(raw: Record<string, unknown>): Promise<string> {
    const req = raw as unknown as AuthedRequest;
    const principal = req.user;
    return principal && principal.kind !== 'anonymous' ? `principal:${principal.id}` : `ip:${req.ip ?? 'unknown'}`;
  }

  /** One budget per tracker across all routes (the default key is per route). */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const call = toolCallOf(req);
    this.refused(req, 'request', call, { limit: detail.limit, windowMs: detail.ttl }, detail.timeToBlockExpire);
    throw new ThrottlerException(
      `Rate limit exceeded: at most ${detail.limit} requests per ${detail.ttl / 1000} s; retry in ${detail.timeToBlockExpire} s`,
    );
  }

  private limitOf(tool: string): ToolRateLimit | undefined {
    return this.config.rateLimit.tools[tool] ?? this.registry.getTool(tool)?.definition.rateLimit;
  }

  private refused(req: AuthedRequest, scope: 'request' | 'tool', call: ToolCall | undefined, limit: ToolRateLimit, retryAfterSeconds: number): void {
    this.metrics.rateLimited(scope, call?.name);
    if (!call) return;
    const principal = req.user;
    this.audit.record({
      kind: 'tool_call',
      outcome: 'rate_limited',
      principalId: principal?.id,
      authMethod: principal?.authMethod,
      era: call.era,
      tool: call.name,
      namespace: this.registry.getTool(call.name)?.namespace,
      errorMessage: `rate limit (${scope}): ${limit.limit} per ${limit.windowMs / 1000} s`,
      detail: { limit: scope, max: limit.limit, windowMs: limit.windowMs, retryAfterSeconds },
    });
  }
}
