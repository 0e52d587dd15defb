import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The full audit event model: every kind of event (not only tool calls),
 * idempotent event ids, client and request facts, redacted arguments, a hash
 * chain per writer, and a trigger that keeps the table append-only (only a
 * transaction that sets `portico.audit_retention = on` may delete).
 */
export class AuditEventModel1764200000000 implements MigrationInterface {
  name = 'AuditEventModel1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_events" ADD "event_id" uuid NOT NULL DEFAULT gen_random_uuid()`);
    await q.query(`ALTER TABLE "audit_events" ALTER COLUMN "event_id" DROP DEFAULT`);
    for (const column of ['principal_id', 'auth_method', 'era', 'tool', 'namespace', 'duration_ms']) {
      await q.query(`ALTER TABLE "audit_events" ALTER COLUMN "${column}" DROP NOT NULL`);
    }
    for (const [column, type] of [
      ['client_name', 'text'],
      ['client_version', 'text'],
      ['client_ip', 'text'],
      ['user_agent', 'text'],
      ['protocol_version', 'text'],
      ['arguments', 'jsonb'],
      ['error_code', 'text'],
      ['result_bytes', 'integer'],
      ['detail', 'jsonb'],
      ['instance_id', 'text'],
      ['seq', 'bigint'],
      ['prev_hash', 'text'],
      ['hash', 'text'],
    ]) {
      await q.query(`ALTER TABLE "audit_events" ADD "${column}" ${type}`);
    }
    await q.query(`CREATE UNIQUE INDEX "uq_audit_events_event_id" ON "audit_events" ("event_id")`);
    await q.query(`CREATE UNIQUE INDEX "uq_audit_events_chain" ON "audit_events" ("instance_id", "seq")`);
    await q.query(`CREATE INDEX "idx_audit_events_kind" ON "audit_events" ("kind", "occurred_at")`);
    await q.query(`CREATE INDEX "idx_audit_events_session" ON "audit_events" ("session_id")`);
    await q.query(`
      CREATE FUNCTION portico_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('portico.audit_retention', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
      FOR EACH ROW EXECUTE FUNCTION portico_audit_append_only()`);
    await q.query(`
      CREATE TABLE "audit_checkpoints" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "instance_id" text NOT NULL,
        "up_to_seq" bigint NOT NULL,
        "hash" text NOT NULL,
        "deleted_rows" integer NOT NULL,
        CONSTRAINT "pk_audit_checkpoints" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "idx_audit_checkpoints_instance" ON "audit_checkpoints" ("instance_id", "up_to_seq")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "audit_checkpoints"`);
    await q.query(`DROP TRIGGER "audit_events_append_only" ON "audit_events"`);
    await q.query(`DROP FUNCTION portico_audit_append_only()`);
    await q.query(`SET LOCAL portico.audit_retention = 'on'`);
    await q.query(`DELETE FROM "audit_events" WHERE "principal_id" IS NULL OR "tool" IS NULL`);
    for (const index of ['idx_audit_events_session', 'idx_audit_events_kind', 'uq_audit_events_chain', 'uq_audit_events_event_id']) {
      await q.query(`DROP INDEX "${index}"`);
    }
    for (const column of ['hash', 'prev_hash', 'seq', 'instance_id', 'detail', 'result_bytes', 'error_code', 'arguments', 'protocol_version', 'user_agent', 'client_ip', 'client_version', 'client_name', 'event_id']) {
      await q.query(`ALTER TABLE "audit_events" DROP COLUMN "${column}"`);
    }
  }
}
