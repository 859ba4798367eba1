import { rmSync } from 'fs';
import { EmbeddedDatabase } from '../../src/database/embedded-database';
import { freePort } from '../support/free-port';
import { recreateDatabase, testDatabaseUrl } from './test-database';

/**
 * Gives the e2e tests a real, empty PostgreSQL database and exports its URL as
 * TEST_DATABASE_URL: on the server of DATABASE_URL when it is set (database
 * TEST_DB_NAME, default messaging_test, dropped and created afresh), otherwise on an
 * embedded PostgreSQL started under .data/test-postgres on a free port.
 */
export default async function globalSetup(): Promise<void> {
  const name = process.env.TEST_DB_NAME || 'messaging_test';
  if (process.env.DATABASE_URL) {
    await recreateDatabase(process.env.DATABASE_URL, name);
    process.env.TEST_DATABASE_URL = testDatabaseUrl(process.env.DATABASE_URL, name);
    return;
  }
  const dataDir = `.data/test-postgres-${process.pid}`;
  rmSync(dataDir, { recursive: true, force: true });
  const embedded = await EmbeddedDatabase.start({ dataDir, port: await freePort(), database: name });
  (globalThis as { __EMBEDDED_TEST_DB__?: { db: EmbeddedDatabase; dataDir: string } }).__EMBEDDED_TEST_DB__ = { db: embedded, dataDir };
  process.env.TEST_DATABASE_URL = testDatabaseUrl(embedded.url, name);
}
