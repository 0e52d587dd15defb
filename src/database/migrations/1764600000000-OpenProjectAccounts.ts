import { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-user OpenProject identity: one encrypted API key per principal. */
export class OpenProjectAccounts1764600000000 implements MigrationInterface {
  name = 'OpenProjectAccounts1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "openproject_accounts" (
        "principal_id" text NOT NULL,
        "openproject_user_id" integer NOT NULL,
        "openproject_login" text,
        "openproject_name" text NOT NULL,
        "api_key_sealed" text NOT NULL,
        "key_id" text NOT NULL,
        "linked_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_openproject_accounts" PRIMARY KEY ("principal_id")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "openproject_accounts"`);
  }
}
