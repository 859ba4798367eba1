import { join } from 'path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { Conversation } from '../conversations/conversation.entity';
import { Message } from '../messages/message.entity';

/** Connections per process in the TypeORM pool. */
const POOL_SIZE = 20;

/**
 * TypeORM options for the app, the TypeORM CLI (ormconfig.ts) and the tests alike.
 * Schema changes only through migrations: never `synchronize`.
 * @param url postgres:// URL
 */
export function buildDataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [Conversation, Message],
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    migrationsRun: false,
    extra: { max: POOL_SIZE, connectionTimeoutMillis: 5_000 },
  };
}

/** Key of the advisory lock that serialises migrations across processes starting together. */
const MIGRATION_LOCK_KEY = 7_302_410_991;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so that several
 * processes starting at once (API and worker replicas) migrate one after the other.
 * @returns the names of the migrations that ran
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const ran = await dataSource.runMigrations({ transaction: 'all' });
    return ran.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}
