import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { Controller, Get, Inject, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse, getSchemaPath } from '@nestjs/swagger';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { McpRegistry } from '@portico/mcp-core';
import type { Request } from 'express';
import { AuditService } from '../audit/audit.service';
import { BUILD_COMMIT, PACKAGE_VERSION } from '../common/paths';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from '../metrics/metrics.service';
import { MODERN_PROTOCOL_VERSION } from '../transport/client-quirks';
import { LiveSessionRegistry } from '../transport/live-session.registry';
import { ModernHandlerService } from '../transport/modern-handler.service';
import { AdminGuard } from './admin.guard';
import { ReadinessService } from './readiness.service';
import { DependencyDto, FullStatusDto, PublicStatusDto, SessionsDto, ToolsDto } from './status.dto';
import { StatusTokens } from './status-tokens';

const STARTED_AT = new Date();

/** How callers authenticate, as configured: static bearer tokens (always, generated when none is set), OAuth JWTs from an external IdP. */
export function authModes(config: AppConfig): string[] {
  if (config.auth.disabled) return ['none'];
  return ['bearer', ...(config.auth.oauth.enabled ? ['oauth'] : [])];
}

/**
 * The REST status API on the status port. `GET /status` answers everyone
 * with the public view (overall readiness and each dependency's state, no
 * details: what `/health/ready` already tells, minus error messages), and
 * the admin token with the full view. Sessions and tools need the admin
 * token: they name principals and clients.
 */
@ApiTags('status')
@ApiExtraModels(PublicStatusDto, FullStatusDto, DependencyDto)
@Controller('status')
export class StatusController {
  constructor(
    private readonly tokens: StatusTokens,
    private readonly readiness: ReadinessService,
    private readonly registry: McpRegistry,
    private readonly sessions: LiveSessionRegistry,
    private readonly modern: ModernHandlerService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly lifecycle: LifecycleService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiBearerAuth('admin')
  @ApiOperation({ summary: 'Status of this instance: the full view with the admin token, the public view without.' })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(FullStatusDto) }, { $ref: getSchemaPath(PublicStatusDto) }] } })
  async status(@Req() req: Request): Promise<PublicStatusDto | FullStatusDto> {
    const health = await this.readiness.result();
    if (!this.tokens.isAdmin(req)) {
      return { view: 'public', status: health.status, dependencies: Object.fromEntries(Object.entries(health.details).map(([k, v]) => [k, v.status])) };
    }
    const providers = new Map<string, number>();
    for (const tool of this.registry.tools()) providers.set(tool.namespace, (providers.get(tool.namespace) ?? 0) + 1);
    const legacy = this.sessions.countByTransport();
    return {
      view: 'full',
      status: health.status,
      version: PACKAGE_VERSION,
      commit: BUILD_COMMIT ?? null,
      startedAt: STARTED_AT.toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      draining: this.lifecycle.draining,
      protocolRevisions: [MODERN_PROTOCOL_VERSION, ...SUPPORTED_PROTOCOL_VERSIONS].sort().reverse(),
      transports: { streamableHttp: true, legacySse: this.config.legacySse.enabled },
      authModes: authModes(this.config),
      registry: {
        tools: this.registry.tools().length,
        resources: this.registry.resources().length + this.registry.resourceTemplates().length,
        prompts: this.registry.prompts().length,
        providers: [...providers].map(([namespace, tools]) => ({ namespace, tools })).sort((a, b) => (a.namespace < b.namespace ? -1 : 1)),
      },
      sessions: { legacy: { streamableHttp: legacy['streamable-http'], sse: legacy.sse }, modern: { listenStreams: this.modern.openStreams } },
      audit: this.audit.backlog,
      dependencies: dependencies(health.details),
      rateLimit: this.config.rateLimit,
    };
  }

  @Get('sessions')
  @UseGuards(AdminGuard)
  @ApiBearerAuth('admin')
  @ApiOperation({ summary: 'Legacy-era sessions served by this instance, and open modern listen streams.' })
  @ApiOkResponse({ type: SessionsDto })
  @ApiUnauthorizedResponse({ description: 'Admin token missing or wrong.' })
  async list(): Promise<SessionsDto> {
    const now = Date.now();
    const sessions = (await this.sessions.list())
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((s) => ({
        idPrefix: s.id.slice(0, 8),
        principal: s.principalId,
        client: s.clientName,
        era: 'legacy' as const,
        transport: s.transport,
        protocolVersion: s.protocolVersion,
        ageSeconds: Math.round((now - s.createdAt) / 1000),
        idleSeconds: Math.round((now - s.lastSeenAt) / 1000),
      }));
    return { sessions, modern: { listenStreams: this.modern.openStreams } };
  }

  @Get('tools')
  @UseGuards(AdminGuard)
  @ApiBearerAuth('admin')
  @ApiOperation({ summary: 'Per tool since start: calls, errors, rate-limited calls, p50 and p99 latency.' })
  @ApiOkResponse({ type: ToolsDto })
  @ApiUnauthorizedResponse({ description: 'Admin token missing or wrong.' })
  async tools(): Promise<ToolsDto> {
    return { since: STARTED_AT.toISOString(), tools: await this.metrics.toolStats() };
  }
}

function dependencies(details: HealthIndicatorResult): Record<string, DependencyDto> {
  return Object.fromEntries(
    Object.entries(details).map(([name, { status, message, error }]) => [name, { status, ...(message || error ? { message: String(message ?? error) } : {}) }]),
  );
}
