import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A principal's link to its OpenProject account (per-user identity mode): the
 * API key, AES-256-GCM encrypted with the principal id as associated data,
 * and who that key belongs to in OpenProject, as seen when it was linked.
 */
@Entity({ name: 'openproject_accounts' })
export class OpenProjectAccount {
  @PrimaryColumn({ name: 'principal_id', type: 'text', primaryKeyConstraintName: 'pk_openproject_accounts' })
  principalId!: string;

  @Column({ name: 'openproject_user_id', type: 'integer' })
  openprojectUserId!: number;

  @Column({ name: 'openproject_login', type: 'text', nullable: true })
  openprojectLogin!: string | null;

  @Column({ name: 'openproject_name', type: 'text' })
  openprojectName!: string;

  /** `v1.<iv>.<tag>.<ciphertext>` (see KeyCipher). */
  @Column({ name: 'api_key_sealed', type: 'text' })
  apiKeySealed!: string;

  /** Which encryption key sealed it (KeyCipher.keyId). */
  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ name: 'linked_at', type: 'timestamptz', default: () => 'now()' })
  linkedAt!: Date;
}
