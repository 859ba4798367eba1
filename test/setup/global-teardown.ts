import { rmSync } from 'fs';
import type { EmbeddedDatabase } from '../../src/database/embedded-database';

/** Stops the embedded test PostgreSQL, when global-setup started one, and removes its data. */
export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as { __EMBEDDED_TEST_DB__?: { db: EmbeddedDatabase; dataDir: string } }).__EMBEDDED_TEST_DB__;
  if (!started) return;
  await started.db.stop();
  rmSync(started.dataDir, { recursive: true, force: true });
}
