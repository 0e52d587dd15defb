import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The audit log: one row per event (a completed tool call, an authentication,
 * a session change, an administrative act...). Append-only: the code inserts
 * and reads; only retention deletes, and a database trigger refuses anything
 * else. Each row is chained to the previous row of the same writer
 * (`instance_id`, `seq`) by `hash`; see docs/audit.md.
 */
@Entity({ name: 'audit_events' })
@Index('idx_audit_events_occurred_at', ['occurredAt'])
@Index('idx_audit_events_principal', ['principalId', 'occurredAt'])
@Index('idx_audit_events_tool', ['tool', 'occurredAt'])
@Index('idx_audit_events_kind', ['kind', 'occurredAt'])
@Index('idx_audit_events_session', ['sessionId'])
@Index('uq_audit_events_event_id', ['eventId'], { unique: true })
@Index('uq_audit_events_chain', ['instanceId', 'seq'], { unique: true })
export class AuditEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_audit_events' })
  id!: string;

  /** Made at the source, so a replay never duplicates a row. */
  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ name: 'principal_id', type: 'text', nullable: true })
  principalId!: string | null;

  @Column({ name: 'auth_method', type: 'text', nullable: true })
  authMethod!: string | null;

  @Column({ name: 'client_name', type: 'text', nullable: true })
  clientName!: string | null;

  @Column({ name: 'client_version', type: 'text', nullable: true })
  clientVersion!: string | null;

  @Column({ name: 'client_ip', type: 'text', nullable: true })
  clientIp!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId!: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  @Column({ type: 'text', nullable: true })
  era!: string | null;

  @Column({ name: 'protocol_version', type: 'text', nullable: true })
  protocolVersion!: string | null;

  @Column({ type: 'text', nullable: true })
  tool!: string | null;

  @Column({ type: 'text', nullable: true })
  namespace!: string | null;

  /** Redacted: secret-looking keys and fields marked sensitive never reach this column. */
  @Column({ type: 'jsonb', nullable: true })
  arguments!: unknown;

  @Column({ type: 'text' })
  outcome!: string;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode!: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  @Column({ name: 'duration_ms', type: 'double precision', nullable: true })
  durationMs!: number | null;

  @Column({ name: 'result_bytes', type: 'integer', nullable: true })
  resultBytes!: number | null;

  /** Kind-specific facts (never secrets). */
  @Column({ type: 'jsonb', nullable: true })
  detail!: Record<string, unknown> | null;

  /** The writer (one per process start) whose hash chain this row belongs to. */
  @Column({ name: 'instance_id', type: 'text', nullable: true })
  instanceId!: string | null;

  @Column({ type: 'bigint', nullable: true })
  seq!: string | null;

  @Column({ name: 'prev_hash', type: 'text', nullable: true })
  prevHash!: string | null;

  @Column({ type: 'text', nullable: true })
  hash!: string | null;
}
