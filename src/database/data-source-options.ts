import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { entities } from './entities';
import { migrations } from './migrations';
import { pgliteDriver } from './pglite';

export interface DatabaseTarget {
  options: DataSourceOptions;
  /** True when running on the embedded PGlite database (migrations apply on start). */
  embedded: boolean;
}

/**
 * One definition of the database for the app, the `portico migrate` command
 * and the TypeORM CLI: PostgreSQL when `DATABASE_URL` is set, otherwise
 * embedded PGlite in the data directory.
 */
export function dataSourceOptions(config: Pick<AppConfig, 'database' | 'dataDir'>): DatabaseTarget {
  const common = {
    type: 'postgres' as const,
    entities,
    migrations,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
    uuidExtension: 'pgcrypto' as const,
    installExtensions: false,
  };
  if (config.database.url) {
    return {
      embedded: false,
      options: {
        ...common,
        url: config.database.url,
        applicationName: 'portico',
        extra: { max: 10, connectionTimeoutMillis: 5000 },
      },
    };
  }
  return {
    embedded: true,
    options: { ...common, driver: pgliteDriver(config.dataDir).driver },
  };
}
