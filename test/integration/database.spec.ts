import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { loadConfig } from '../../src/config/app-config';
import { migrate } from '../../src/cli/migrate.command';
import { bootPortico } from '../support/portico';
import { postgresAvailable, scratchDatabase } from '../support/postgres';

/** Real PostgreSQL: migrations are explicit, and a schema that is behind stops the boot. */
describe('PostgreSQL schema', () => {
  let available = false;
  let db: Awaited<ReturnType<typeof scratchDatabase>> | undefined;

  beforeAll(async () => {
    available = await postgresAvailable();
    if (available) db = await scratchDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('refuses to start on an unmigrated database, starts after `portico migrate`, and migrate is idempotent', async () => {
    if (!available) return;
    await expect(bootPortico({ DATABASE_URL: db!.url })).rejects.toThrow(/schema is behind.*npm run migrate/);

    const config = loadConfig({ DATABASE_URL: db!.url, LOG_LEVEL: 'silent' });
    await migrate(config);
    await migrate(config);

    const pg = new Client({ connectionString: db!.url });
    await pg.connect();
    const { rows } = await pg.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'audit_events' ORDER BY ordinal_position`,
    );
    expect(rows.map((r) => r.column_name)).toEqual([
      'id', 'occurred_at', 'kind', 'principal_id', 'auth_method', 'session_id', 'request_id',
      'era', 'tool', 'namespace', 'outcome', 'duration_ms', 'error_message',
      'event_id', 'client_name', 'client_version', 'client_ip', 'user_agent', 'protocol_version',
      'arguments', 'error_code', 'result_bytes', 'detail', 'instance_id', 'seq', 'prev_hash', 'hash',
    ]);
    expect(rows.find((r) => r.column_name === 'occurred_at').data_type).toBe('timestamp with time zone');
    const { rows: indexes } = await pg.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'audit_events' ORDER BY indexname`);
    expect(indexes.map((r) => r.indexname)).toEqual([
      'idx_audit_events_kind', 'idx_audit_events_occurred_at', 'idx_audit_events_principal', 'idx_audit_events_session',
      'idx_audit_events_tool', 'pk_audit_events', 'uq_audit_events_chain', 'uq_audit_events_event_id',
    ]);

    // Append-only, enforced by the database: no UPDATE, no DELETE outside retention.
    await pg.query(`INSERT INTO audit_events (event_id, occurred_at, kind, outcome) VALUES (gen_random_uuid(), now(), 'config_loaded', 'ok')`);
    await expect(pg.query(`UPDATE audit_events SET outcome = 'forged'`)).rejects.toThrow(/append-only \(UPDATE refused\)/);
    await expect(pg.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only \(DELETE refused\)/);
    await pg.query('BEGIN');
    await pg.query(`SET LOCAL portico.audit_retention = 'on'`);
    expect((await pg.query(`DELETE FROM audit_events`)).rowCount).toBe(1);
    await pg.query('COMMIT');
    await pg.end();

    // The entities and the migrations describe the same schema.
    const dataSource = new DataSource(dataSourceOptions(config).options);
    await dataSource.initialize();
    const diff = await dataSource.driver.createSchemaBuilder().log();
    await dataSource.destroy();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);

    const portico = await bootPortico({ DATABASE_URL: db!.url });
    const ready = await fetch(`${portico.statusUrl}/health/ready`);
    expect(ready.status).toBe(200);
    await portico.stop();
  });
});
