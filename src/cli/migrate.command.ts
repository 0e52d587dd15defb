import pino from 'pino';
import { DataSource } from 'typeorm';
import { pinoOptions, stderr } from '../common/logger.module';
import type { AppConfig } from '../config/app-config';
import { dataSourceOptions } from '../database/data-source-options';

/** `portico migrate`: applies pending migrations to the configured database. */
export async function migrate(config: AppConfig): Promise<void> {
  const log = pino(pinoOptions(config.log.level), stderr());
  const dataSource = new DataSource(dataSourceOptions(config).options);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    log.info({ applied: applied.map((m) => m.name) }, applied.length ? 'migrations applied' : 'database is up to date');
  } finally {
    await dataSource.destroy();
  }
}
