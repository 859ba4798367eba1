/**
 * `npm run bench:seed`: loads BENCH_SEED_MESSAGES (1,000,000) messages in
 * BENCH_SEED_CONVERSATIONS (50,000) conversations into the bench database (the one
 * `npm run bench` uses: embedded under .data/bench-postgres, or messaging_bench on the
 * server of DATABASE_URL), replacing what it held, and prints how long it took.
 */
import { buildDataSourceOptions, migrateDatabase } from '../src/database/data-source-options';
import { openBenchDatabase, withClient } from './lib/bench-database';
import { runMain } from './lib/processes';
import { seed, seedSizeFromEnv } from './lib/seed';

async function main(): Promise<void> {
  const size = seedSizeFromEnv();
  const db = await openBenchDatabase();
  try {
    console.log(`Database: ${db.description}`);
    await migrateDatabase(buildDataSourceOptions(db.url));
    console.log(`Seeding ${size.messages.toLocaleString('en-US')} messages in ${size.conversations.toLocaleString('en-US')} conversations`);
    const info = await withClient(db.url, (c) => seed(c, size, console.log));
    console.log(`Seeded ${info.messages.toLocaleString('en-US')} messages in ${info.conversations.toLocaleString('en-US')} conversations in ${info.seconds.toFixed(1)} s`);
  } finally {
    await db.stop();
  }
}

runMain(main);
