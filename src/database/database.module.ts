import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app.config';
import { buildDataSourceOptions, runMigrations } from './data-source-options';
import { EmbeddedDatabase, embeddedDatabaseOptions } from './embedded-database';

/** Injection token of the PostgreSQL URL the process uses (DATABASE_URL or the embedded server's). */
export const DATABASE_URL = Symbol('DATABASE_URL');
const EMBEDDED_DATABASE = Symbol('EMBEDDED_DATABASE');

/** Stops the embedded PostgreSQL (when this process started one) after everything else has shut down. */
class EmbeddedDatabaseShutdown implements OnApplicationShutdown {
  constructor(@Inject(EMBEDDED_DATABASE) private readonly embedded: EmbeddedDatabase | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.embedded?.stop();
  }
}

const embeddedDatabaseProvider = {
  provide: EMBEDDED_DATABASE,
  inject: [appConfig.KEY],
  useFactory: async (config: ConfigType<typeof appConfig>): Promise<EmbeddedDatabase | null> =>
    config.databaseUrl
      ? null
      : EmbeddedDatabase.start(embeddedDatabaseOptions(config)),
};

const databaseUrlProvider = {
  provide: DATABASE_URL,
  inject: [appConfig.KEY, EMBEDDED_DATABASE],
  useFactory: (config: ConfigType<typeof appConfig>, embedded: EmbeddedDatabase | null): string =>
    embedded?.url ?? (config.databaseUrl as string),
};

/** Provides DATABASE_URL and the embedded server (when DATABASE_URL is unset). */
@Global()
@Module({
  providers: [embeddedDatabaseProvider, databaseUrlProvider, EmbeddedDatabaseShutdown],
  exports: [DATABASE_URL],
})
class DatabaseConnectionModule {}

/**
 * The TypeORM data source on DATABASE_URL, or on an embedded PostgreSQL under
 * DATA_DIR when it is unset; pending migrations run (under an advisory lock) before
 * the application starts.
 */
@Module({
  imports: [
    DatabaseConnectionModule,
    TypeOrmModule.forRootAsync({
      inject: [DATABASE_URL],
      useFactory: (url: string) => buildDataSourceOptions(url),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        const ran = await runMigrations(dataSource);
        if (ran.length) new Logger('DatabaseModule').log(`Ran migrations: ${ran.join(', ')}`);
        return dataSource;
      },
    }),
  ],
  exports: [DatabaseConnectionModule],
})
export class DatabaseModule {}
