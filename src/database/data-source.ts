import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

/**
 * The data source the TypeORM CLI loads, e.g.
 * `npx typeorm-ts-node-commonjs migration:generate -d src/database/data-source.ts src/database/migrations/Name`.
 * The app builds the same options in DatabaseModule.
 */
export default new DataSource(dataSourceOptions(loadConfig()).options);
