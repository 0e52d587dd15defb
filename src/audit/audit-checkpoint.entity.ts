import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Left by retention: where a writer's chain continues after its deleted rows. */
@Entity({ name: 'audit_checkpoints' })
@Index('idx_audit_checkpoints_instance', ['instanceId', 'upToSeq'])
export class AuditCheckpoint {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_audit_checkpoints' })
  id!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'instance_id', type: 'text' })
  instanceId!: string;

  /** The last deleted seq of this writer: the next row's prev_hash equals `hash`. */
  @Column({ name: 'up_to_seq', type: 'bigint' })
  upToSeq!: string;

  @Column({ type: 'text' })
  hash!: string;

  @Column({ name: 'deleted_rows', type: 'integer' })
  deletedRows!: number;
}
