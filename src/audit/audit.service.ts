import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type ToolCallEvent, type ToolCallListener, ToolInvoker } from '@portico/mcp-core';
import type { Repository } from 'typeorm';
import { AuditEvent } from './audit-event.entity';

const BATCH_SIZE = 200;
const FLUSH_DELAY_MS = 50;
const MAX_PENDING = 50_000;
const RETRY_MAX_MS = 10_000;

type Row = Omit<AuditEvent, 'id'>;

/**
 * Records every tool call in `audit_events`. Calls never wait for the
 * database: rows are queued and inserted in batches; when the database is
 * unreachable they stay queued and are retried with backoff. Append-only:
 * nothing here updates or deletes.
 */
@Injectable()
export class AuditService implements ToolCallListener, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Audit');
  private pending: Row[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private failures = 0;

  constructor(
    @InjectRepository(AuditEvent) private readonly repository: Repository<AuditEvent>,
    private readonly invoker: ToolInvoker,
  ) {}

  onModuleInit(): void {
    this.invoker.addListener(this);
  }

  onToolCall(event: ToolCallEvent): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.logger.error('audit queue full: dropped the oldest pending event');
    }
    this.pending.push({
      occurredAt: event.startedAt,
      kind: 'tool_call',
      principalId: event.principal.id,
      authMethod: event.principal.authMethod,
      sessionId: event.sessionId ?? null,
      requestId: event.requestId ?? null,
      era: event.era,
      tool: event.tool,
      namespace: event.namespace,
      outcome: event.outcome,
      durationMs: event.durationMs,
      errorMessage: event.errorMessage ?? null,
    });
    this.schedule(this.pending.length >= BATCH_SIZE ? 0 : FLUSH_DELAY_MS);
  }

  /** Rows not yet in the database. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Writes everything queued; resolves when done or when the database refuses. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.pending.length) return;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (let attempt = 0; attempt < 3 && this.pending.length; attempt++) await this.flush();
    if (this.pending.length) this.logger.error({ lost: this.pending.length }, 'audit events could not be written before exit');
  }

  private schedule(delay: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  private async write(): Promise<void> {
    const batch = this.pending.slice(0, BATCH_SIZE);
    try {
      await this.repository.insert(batch);
      this.pending.splice(0, batch.length);
      if (this.failures) this.logger.log({ failures: this.failures }, 'audit writes recovered');
      this.failures = 0;
      if (this.pending.length) this.schedule(0);
    } catch (e) {
      this.failures++;
      const delay = Math.min(RETRY_MAX_MS, 100 * 2 ** this.failures);
      this.logger.warn({ err: e, pending: this.pending.length, retryInMs: delay }, 'audit write failed; will retry');
      this.schedule(delay);
    }
  }
}
