import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The built-in authorization server's state (`OAUTH_SERVER=builtin`):
 * `oidc_payload` holds every oidc-provider artefact (clients registered
 * dynamically, grants, sessions, interactions, authorization codes, refresh
 * tokens), one row per model and id; `oauth_server_keys` holds its signing and
 * cookie keys, encrypted, so that every instance signs and verifies alike.
 */
export class AuthorizationServer1764400000000 implements MigrationInterface {
  name = 'AuthorizationServer1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "oidc_payload" (
        "model" text NOT NULL,
        "id" text NOT NULL,
        "payload" jsonb NOT NULL,
        "grant_id" text,
        "uid" text,
        "user_code" text,
        "expires_at" timestamptz,
        "consumed_at" timestamptz,
        CONSTRAINT "pk_oidc_payload" PRIMARY KEY ("model", "id")
      )`);
    await q.query(`CREATE INDEX "idx_oidc_payload_grant_id" ON "oidc_payload" ("grant_id") WHERE "grant_id" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_oidc_payload_uid" ON "oidc_payload" ("uid") WHERE "uid" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_oidc_payload_expires_at" ON "oidc_payload" ("expires_at") WHERE "expires_at" IS NOT NULL`);
    await q.query(
      `CREATE INDEX "idx_oidc_payload_grant_account" ON "oidc_payload" (("payload"->>'accountId'), ("payload"->>'clientId')) WHERE "model" = 'Grant'`,
    );
    await q.query(`
      CREATE TABLE "oauth_server_keys" (
        "kid" text NOT NULL,
        "use" text NOT NULL,
        "material" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "active_from" timestamptz NOT NULL,
        "retired_at" timestamptz,
        CONSTRAINT "pk_oauth_server_keys" PRIMARY KEY ("kid"),
        CONSTRAINT "chk_oauth_server_keys_use" CHECK ("use" IN ('sig', 'cookie'))
      )`);
    await q.query(`CREATE INDEX "idx_oauth_server_keys_use" ON "oauth_server_keys" ("use", "active_from") WHERE "retired_at" IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "oauth_server_keys"`);
    await q.query(`DROP TABLE "oidc_payload"`);
  }
}
