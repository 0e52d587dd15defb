import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditEvents1764115200000 implements MigrationInterface {
  name = 'CreateAuditEvents1764115200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "audit_events" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "occurred_at" timestamptz NOT NULL,
        "kind" text NOT NULL,
        "principal_id" text NOT NULL,
        "auth_method" text NOT NULL,
        "session_id" text,
        "request_id" text,
        "era" text NOT NULL,
        "tool" text NOT NULL,
        "namespace" text NOT NULL,
        "outcome" text NOT NULL,
        "duration_ms" double precision NOT NULL,
        "error_message" text,
        CONSTRAINT "pk_audit_events" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "idx_audit_events_occurred_at" ON "audit_events" ("occurred_at")`);
    await q.query(`CREATE INDEX "idx_audit_events_principal" ON "audit_events" ("principal_id", "occurred_at")`);
    await q.query(`CREATE INDEX "idx_audit_events_tool" ON "audit_events" ("tool", "occurred_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "audit_events"`);
  }
}
