import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';

/**
 * With DATABASE_URL set (CI sets it), the suites run against that PostgreSQL:
 * bring its schema up to date once, as `npm run migrate` would. Without it,
 * each app under test runs on its own embedded PGlite (migrated on start).
 */
export default async function globalSetup(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    if (process.env.CI === 'true') throw new Error('CI=true but DATABASE_URL is not set: the suites must run on PostgreSQL in CI');
    return;
  }
  const dataSource = new DataSource(dataSourceOptions({ database: { url }, dataDir: '' }).options);
  try {
    await dataSource.initialize();
  } catch (e) {
    throw new Error(`PostgreSQL at DATABASE_URL is not reachable: ${(e as Error).message}`);
  }
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.destroy();
}
