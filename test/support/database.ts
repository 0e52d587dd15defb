import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';

/**
 * Runs one query on the database a spawned Portico used: PostgreSQL when
 * DATABASE_URL is set, else the embedded database in `dataDir`, which is
 * single-process: open it only after the process has exited.
 */
export async function queryDatabase(dataDir: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const db = new DataSource(dataSourceOptions({ database: { url: process.env.DATABASE_URL }, dataDir }).options);
  await db.initialize();
  try {
    return await db.query(sql, params);
  } finally {
    await db.destroy();
  }
}
