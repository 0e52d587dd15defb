import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

/**
 * With PostgreSQL, migrations are applied by `npm run migrate`; refuse to
 * start against a schema that is behind, rather than fail on the first write.
 */
@Injectable()
class MigrationCheck implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    if (this.dataSource.options.migrationsRun) return;
    if (await this.dataSource.showMigrations()) {
      throw new Error('The database schema is behind this version of Portico: run `npm run migrate` (or `portico migrate`) first');
    }
  }
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const { options, embedded } = dataSourceOptions(config);
        return { ...options, migrationsRun: embedded, retryAttempts: 2, retryDelay: 1000 };
      },
    }),
  ],
  providers: [MigrationCheck],
})
export class DatabaseModule {}
