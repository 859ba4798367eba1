import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app.config';
import { buildDataSourceOptions, migrateDatabase } from './data-source-options';
import { EmbeddedDatabase, embeddedDatabaseOptions } from './embedded-database';

/** Injection token of the PostgreSQL URL the process uses (DATABASE_URL or the embedded server's). */
export const DATABASE_URL = Symbol('DATABASE_URL');
const EMBEDDED_DATABASE = Symbol('EMBEDDED_DATABASE');

/**
 * Stops the embedded PostgreSQL (when this process started one) as the very last step
 * of shutdown: it runs in the last phase (onApplicationShutdown, after the HTTP server,
 * the queue workers and pg-boss have closed), in a global module, whose hooks Nest
 * calls after those of every other module; and it closes the TypeORM pool itself
 * first, whichever of it and TypeORM's own hook Nest calls first.
 */
@Injectable()
class EmbeddedDatabaseShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(EMBEDDED_DATABASE) private readonly embedded: EmbeddedDatabase | null,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    let dataSource: DataSource | undefined;
    try {
      dataSource = this.moduleRef.get(DataSource, { strict: false });
    } catch {
      // start-up failed before TypeORM was set up
    }
    if (dataSource?.isInitialized) await dataSource.destroy();
    await this.embedded.stop();
  }
}

const embeddedDatabaseProvider = {
  provide: EMBEDDED_DATABASE,
  inject: [appConfig.KEY],
  useFactory: async (config: ConfigType<typeof appConfig>): Promise<EmbeddedDatabase | null> =>
    config.databaseUrl
      ? null
      : // The service stops the server itself, last (main.ts, graceful shutdown).
        EmbeddedDatabase.start(embeddedDatabaseOptions(config, false)),
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
      inject: [DATABASE_URL, appConfig.KEY],
      useFactory: (url: string, config: ConfigType<typeof appConfig>) =>
        buildDataSourceOptions(url, { size: config.databasePoolSize, queryTimeoutMs: config.databaseQueryTimeoutMs }),
      dataSourceFactory: async (options) => {
        const ran = await migrateDatabase(options!);
        if (ran.length) new Logger('DatabaseModule').log(`Ran migrations: ${ran.join(', ')}`);
        return new DataSource(options!).initialize();
      },
    }),
  ],
  exports: [DatabaseConnectionModule],
})
export class DatabaseModule {}
