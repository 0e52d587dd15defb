import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys (only a SHA-256 of each key, looked up by its visible prefix) and
 * users for HTTP Basic (scrypt hashes with their parameters).
 */
export class ApiKeysAndUsers1764500000000 implements MigrationInterface {
  name = 'ApiKeysAndUsers1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "api_keys" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "prefix" text NOT NULL,
        "key_hash" text NOT NULL,
        "scopes" text array NOT NULL DEFAULT '{}',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz,
        "last_used_at" timestamptz,
        "revoked_at" timestamptz,
        "created_by" text NOT NULL,
        CONSTRAINT "pk_api_keys" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE UNIQUE INDEX "uq_api_keys_prefix" ON "api_keys" ("prefix")`);
    await q.query(`
      CREATE TABLE "users" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "username" text NOT NULL,
        "password_hash" text NOT NULL,
        "scopes" text array NOT NULL DEFAULT '{}',
        "disabled_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_users" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE UNIQUE INDEX "uq_users_username" ON "users" ("username")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "users"`);
    await q.query(`DROP TABLE "api_keys"`);
  }
}
