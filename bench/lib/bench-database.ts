import { Client } from 'pg';
import { EmbeddedDatabase } from '../../src/database/embedded-database';
import { freePort } from '../../test/support/free-port';

/** Name of the bench's database unless BENCH_DB_NAME says otherwise: never the service's own `messaging`. */
export const DEFAULT_BENCH_DB_NAME = 'messaging_bench';

/** Data directory of the bench's embedded PostgreSQL (kept between runs, so that the seed is loaded once). */
export const BENCH_PG_DIR = '.data/bench-postgres';

/** The PostgreSQL the bench runs against. */
export interface BenchDatabase {
  /** postgres:// URL of the bench database. */
  url: string;
  /** Where it runs, for the report: `embedded PostgreSQL <version>` or the server of DATABASE_URL. */
  description: string;
  /** Whether the server runs on this machine (embedded, or a loopback/socket DATABASE_URL): the bench can then count its CPU time. */
  local: boolean;
  /** Stops the embedded server (a no-op for DATABASE_URL). */
  stop(): Promise<void>;
}

/**
 * The bench database: with DATABASE_URL set, the database BENCH_DB_NAME (default
 * messaging_bench, created when missing) on that server; otherwise an embedded
 * PostgreSQL under .data/bench-postgres (port BENCH_PG_PORT or a free one), started
 * with the service's own EmbeddedDatabase. The name must contain "bench", so that a
 * bench never writes its million rows into a database that holds real data.
 */
export async function openBenchDatabase(env: NodeJS.ProcessEnv = process.env): Promise<BenchDatabase> {
  const name = env.BENCH_DB_NAME || DEFAULT_BENCH_DB_NAME;
  if (!name.includes('bench')) throw new Error(`Refusing to use database "${name}" for the bench: its name lacks "bench"`);
  if (env.DATABASE_URL) {
    const server = new URL(env.DATABASE_URL);
    await ensureDatabase(server, name);
    const url = new URL(env.DATABASE_URL);
    url.pathname = `/${name}`;
    const local = ['', 'localhost', '127.0.0.1', '[::1]'].includes(server.hostname) || decodeURIComponent(server.searchParams.get('host') ?? '').startsWith('/');
    return { url: url.toString(), description: `PostgreSQL ${await serverVersion(url.toString())} at ${server.host} (DATABASE_URL)`, local, stop: async () => undefined };
  }
  const port = env.BENCH_PG_PORT ? Number(env.BENCH_PG_PORT) : await freePort();
  const embedded = await EmbeddedDatabase.start({ dataDir: BENCH_PG_DIR, port, database: name, stopOnSignals: true });
  return { url: embedded.url, description: `embedded PostgreSQL ${await serverVersion(embedded.url)} (${BENCH_PG_DIR})`, local: true, stop: () => embedded.stop() };
}

async function ensureDatabase(server: URL, name: string): Promise<void> {
  const admin = new URL(server.toString());
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

async function serverVersion(url: string): Promise<string> {
  return withClient(url, async (c) => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version);
}

/** Runs `fn` with a connected pg client on `url`, and closes it. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
