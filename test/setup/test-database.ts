import { Client } from 'pg';

/**
 * Builds the URL of the test database on the server of `serverUrl`: same server and
 * credentials, database `name`. The name must contain "test", so that a test run can
 * never drop a database that holds real data.
 */
export function testDatabaseUrl(serverUrl: string, name: string): string {
  if (!name.includes('test')) throw new Error(`Refusing to use database "${name}" for tests: its name lacks "test"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops (with FORCE) and creates the database `name` on the server of `serverUrl`. */
export async function recreateDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const quoted = `"${name.replace(/"/g, '""')}"`;
    await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoted}`);
  } finally {
    await client.end();
  }
}
