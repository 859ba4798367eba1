import type { EventEmitter } from 'events';
import { join } from 'path';
import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { Conversation } from '../conversations/conversation.entity';
import { EarlyReceipt } from '../messages/early-receipt.entity';
import { IdempotencyKey } from '../idempotency/idempotency-key.entity';
import { Message } from '../messages/message.entity';
import { OptOut } from '../opt-outs/opt-out.entity';
import { serviceTypeParsers } from './timestamptz-parser';

/** Connections per process in the TypeORM pool unless DATABASE_POOL_SIZE says otherwise. */
export const DEFAULT_POOL_SIZE = 20;

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

/** pg's error for a query that got no answer within `query_timeout`. */
const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * A pg Client that closes its connection when a query gets no answer within
 * `query_timeout` (DATABASE_QUERY_TIMEOUT_MS): the database is unreachable, e.g. behind a
 * network partition, where no error would come for many minutes.
 *
 * pg fails such a query but keeps the connection, with the query still under way on it:
 * back in the pool, it would hold every later query behind it, and once the network
 * heals, what was sent before the timeout would run on the server, in a transaction
 * that the ROLLBACK TypeORM queued behind it never closes (pg drops queued queries at
 * their own timeout), so the next transaction on that connection would commit it.
 * Closing the socket makes the pool discard the client (its 'error' event: TypeORM
 * releases it with the error) and the server roll back whatever it had.
 * Only promise-style queries are watched (TypeORM's); pg-pool's own `pool.query()` (pg-boss)
 * releases a client that failed with the error, which discards it as well.
 */
export class DisposingClient extends Client {
  query(...args: unknown[]): never {
    const result: unknown = (Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if ((error as Error)?.message === QUERY_READ_TIMEOUT) (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      });
    }
    return result as never;
  }
}

/** How long a request may wait for a new database connection, ms. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** Pool settings of buildDataSourceOptions(). */
export interface PoolSettings {
  /** Connections of the pool (DATABASE_POOL_SIZE). */
  size?: number;
  /** Longest wait for a query's answer, ms (DATABASE_QUERY_TIMEOUT_MS); 0 or absent: none (migrations, the CLI). */
  queryTimeoutMs?: number;
}

/**
 * TypeORM options for the app, the TypeORM CLI (ormconfig.ts) and the tests alike.
 * Schema changes only through migrations: never `synchronize`.
 * @param url postgres:// URL
 */
export function buildDataSourceOptions(url: string, pool: PoolSettings = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [Conversation, Message, EarlyReceipt, OptOut, IdempotencyKey],
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    migrationsRun: false,
    extra: {
      max: pool.size ?? DEFAULT_POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      onConnect: keepClientErrorsHandled,
      types: serviceTypeParsers,
      ...(pool.queryTimeoutMs ? { query_timeout: pool.queryTimeoutMs, Client: DisposingClient } : {}),
    },
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

/**
 * Runs pending migrations (runMigrations) on a short-lived data source of its own, built
 * from `options` without their query timeout: a migration may legitimately run longer
 * than any request should wait.
 * @returns the names of the migrations that ran
 */
export async function migrateDatabase(options: DataSourceOptions): Promise<string[]> {
  const { query_timeout: _timeout, ...extra } = (options.extra ?? {}) as Record<string, unknown>;
  const dataSource = await new DataSource({ ...options, extra: { ...extra, max: 2 } } as DataSourceOptions).initialize();
  try {
    return await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
