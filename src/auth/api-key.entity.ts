import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An API key. The key itself is shown once, when created; the table keeps
 * only its SHA-256 and the visible prefix (`ptk_1a2b3c4d`) it is looked up
 * and listed by.
 */
@Entity({ name: 'api_keys' })
@Index('uq_api_keys_prefix', ['prefix'], { unique: true })
export class ApiKey {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_api_keys' })
  id!: string;

  /** What the key is for ("ci-deploy", "metamcp"); not unique. */
  @Column({ type: 'text' })
  name!: string;

  /** The first part of the key, shown in lists and in the audit log (`key:<prefix>`). */
  @Column({ type: 'text' })
  prefix!: string;

  /** SHA-256 of the whole key, hex. */
  @Column({ name: 'key_hash', type: 'text' })
  keyHash!: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes!: string[];

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  /** Updated at most once a minute per key and instance, not on every request. */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** Who created it: `cli:<os user>`, or a principal id. */
  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;
}
