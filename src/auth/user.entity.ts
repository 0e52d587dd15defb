import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A Portico user: signs in with HTTP Basic (and, later, on the built-in authorization server's login page). */
@Entity({ name: 'users' })
@Index('uq_users_username', ['username'], { unique: true })
export class User {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_users' })
  id!: string;

  /** Case-sensitive; letters, digits and `_.@-` (never `:`, which Basic uses as the separator). */
  @Column({ type: 'text' })
  username!: string;

  /** `scrypt:ln=..:r=..:p=..:<salt>:<hash>` (see password-hash.ts); never the password. */
  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes!: string[];

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
