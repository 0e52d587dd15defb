import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const DEPENDENCY_STATES = ['up', 'degraded', 'down'];
const OVERALL = ['ok', 'degraded', 'error', 'shutting_down'];

/** One readiness indicator as `/status` reports it. */
export class DependencyDto {
  @ApiProperty({ enum: DEPENDENCY_STATES })
  status!: string;

  @ApiPropertyOptional({ description: 'Why it is down or degraded (full view only).' })
  message?: string;
}

/** `GET /status` without the admin token. */
export class PublicStatusDto {
  @ApiProperty({ enum: ['public'] })
  view!: 'public';

  @ApiProperty({ enum: OVERALL, description: 'Readiness: ok, degraded (still serving), error (a required dependency is down), shutting_down.' })
  status!: string;

  @ApiProperty({ description: 'Each readiness indicator (database, sessions, audit, lifecycle, and contributed ones) by name.', additionalProperties: { type: 'string', enum: DEPENDENCY_STATES }, type: 'object' })
  dependencies!: Record<string, string>;
}

export class ToolProviderDto {
  @ApiProperty() namespace!: string;
  @ApiProperty() tools!: number;
}

export class RegistryDto {
  @ApiProperty() tools!: number;
  @ApiProperty() resources!: number;
  @ApiProperty() prompts!: number;
  @ApiProperty({ type: [ToolProviderDto] }) providers!: ToolProviderDto[];
}

export class LegacySessionCountsDto {
  @ApiProperty({ description: 'Legacy sessions on /mcp (Streamable HTTP).' }) streamableHttp!: number;
  @ApiProperty({ description: 'Legacy sessions on /sse + /messages (HTTP+SSE, 2024-11-05).' }) sse!: number;
}

export class ModernSessionCountsDto {
  @ApiProperty({ description: 'Open subscriptions/listen streams (the modern era is otherwise stateless).' }) listenStreams!: number;
}

export class SessionCountsDto {
  @ApiProperty({ type: LegacySessionCountsDto }) legacy!: LegacySessionCountsDto;
  @ApiProperty({ type: ModernSessionCountsDto }) modern!: ModernSessionCountsDto;
}

export class AuditBacklogDto {
  @ApiProperty({ description: 'Events queued in memory.' }) queued!: number;
  @ApiProperty({ description: 'Whether events wait in the on-disk journal.' }) journaled!: boolean;
  @ApiProperty() journalBytes!: number;
}

export class TransportsDto {
  @ApiProperty({ description: '/mcp, both eras.' }) streamableHttp!: boolean;
  @ApiProperty({ description: '/sse + /messages (LEGACY_SSE_ENABLED).' }) legacySse!: boolean;
}

export class RateLimitDto {
  @ApiProperty({ description: 'Requests per principal per window; 0 = off.' }) requests!: number;
  @ApiProperty() windowMs!: number;
  @ApiProperty({ description: 'Per-tool limits from RATE_LIMIT_TOOLS and @Tool({ rateLimit }).', type: 'object', additionalProperties: { type: 'object', properties: { limit: { type: 'integer' }, windowMs: { type: 'integer' } } } })
  tools!: Record<string, { limit: number; windowMs: number }>;
}

/** `GET /status` with the admin token. */
export class FullStatusDto {
  @ApiProperty({ enum: ['full'] }) view!: 'full';
  @ApiProperty({ enum: OVERALL }) status!: string;
  @ApiProperty() version!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Commit of the build, when known.' }) commit!: string | null;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty() uptimeSeconds!: number;
  @ApiProperty({ description: 'True while shutting down.' }) draining!: boolean;
  @ApiProperty({ type: [String], description: 'MCP protocol revisions served.' }) protocolRevisions!: string[];
  @ApiProperty({ type: TransportsDto }) transports!: TransportsDto;
  @ApiProperty({ type: [String], description: 'How callers authenticate (bearer, none...).' }) authModes!: string[];
  @ApiProperty({ type: RegistryDto }) registry!: RegistryDto;
  @ApiProperty({ type: SessionCountsDto }) sessions!: SessionCountsDto;
  @ApiProperty({ type: AuditBacklogDto }) audit!: AuditBacklogDto;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/DependencyDto' } }) dependencies!: Record<string, DependencyDto>;
  @ApiProperty({ type: RateLimitDto }) rateLimit!: RateLimitDto;
}

export class SessionDto {
  @ApiProperty({ description: 'The first 8 characters of the session id (the id itself is a credential-like handle).' }) idPrefix!: string;
  @ApiProperty() principal!: string;
  @ApiPropertyOptional({ description: 'clientInfo.name from initialize (unauthenticated).' }) client?: string;
  @ApiProperty({ enum: ['legacy'] }) era!: 'legacy';
  @ApiProperty({ enum: ['streamable-http', 'sse'] }) transport!: string;
  @ApiPropertyOptional() protocolVersion?: string;
  @ApiProperty() ageSeconds!: number;
  @ApiProperty() idleSeconds!: number;
}

export class SessionsDto {
  @ApiProperty({ type: [SessionDto] }) sessions!: SessionDto[];
  @ApiProperty({ type: ModernSessionCountsDto }) modern!: ModernSessionCountsDto;
}

export class ToolStatsDto {
  @ApiProperty() tool!: string;
  @ApiProperty({ description: 'Calls that ran (any outcome but rate_limited).' }) calls!: number;
  @ApiProperty({ description: 'Calls that ended in tool_error, invalid_input, error or timeout.' }) errors!: number;
  @ApiProperty({ description: 'Calls refused with 429.' }) rateLimited!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, description: 'Calls by outcome.' }) outcomes!: Record<string, number>;
  @ApiProperty({ nullable: true, type: Number, description: 'Median latency in ms since start.' }) p50Ms!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: '99th percentile latency in ms since start.' }) p99Ms!: number | null;
}

export class ToolsDto {
  @ApiProperty({ format: 'date-time', description: 'Figures count from here (process start).' }) since!: string;
  @ApiProperty({ type: [ToolStatsDto] }) tools!: ToolStatsDto[];
}
