import type { EventEmitter } from 'events';
import { join } from 'path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { Conversation } from '../conversations/conversation.entity';
import { Message } from '../messages/message.entity';

/** Connections per process in the TypeORM pool. */
const POOL_SIZE = 20;

/**
 * Gives a new pool client an `error` listener for its whole life (pg-pool's `onConnect`
 * hook, which runs as soon as the client has connected).
 *
 * pg-pool listens for a client's errors only while the client is idle in the pool, and
 * TypeORM attaches its own listener only a microtask after the pool handed the client
 * over. When PostgreSQL shuts down just as a new connection is made, its FATAL
 * "terminating connection due to administrator command" (57P01) arrives in the same
 * read as the end of the start-up, is emitted in between, finds no listener and crashes
 * the process (an unhandled 'error' event). The database-outage e2e test hit it. The
 * pool and TypeORM still see every error as before; this listener only keeps one from
 * being unhandled. TypeORM then gets a client that is not queryable, and the query
 * fails with a connection error (503), as node-postgres's maintainers advise
 * (brianc/node-postgres#2439).
 */
export function keepClientErrorsHandled(client: EventEmitter): void {
  client.on('error', ignoreClientError);
}

/** The error reaches whoever uses the client through its next query. */
function ignoreClientError(): void {}

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
    extra: { max: POOL_SIZE, connectionTimeoutMillis: 5_000, onConnect: keepClientErrorsHandled },
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
