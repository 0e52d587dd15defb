import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One row per `tools/call`, whatever its outcome. Append-only: the code
 * inserts and reads, never updates or deletes.
 */
@Entity({ name: 'audit_events' })
@Index('idx_audit_events_occurred_at', ['occurredAt'])
@Index('idx_audit_events_principal', ['principalId', 'occurredAt'])
@Index('idx_audit_events_tool', ['tool', 'occurredAt'])
export class AuditEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  /** `tool_call` for now; security events join later. */
  @Column({ type: 'text' })
  kind!: string;

  @Column({ name: 'principal_id', type: 'text' })
  principalId!: string;

  @Column({ name: 'auth_method', type: 'text' })
  authMethod!: string;

  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId!: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  @Column({ type: 'text' })
  era!: string;

  @Column({ type: 'text' })
  tool!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ type: 'text' })
  outcome!: string;

  @Column({ name: 'duration_ms', type: 'double precision' })
  durationMs!: number;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;
}
