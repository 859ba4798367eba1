import { Client } from 'pg';
import type { ConfigType } from '@nestjs/config';
import { appConfig, Role } from '../src/config/app.config';
import { JobQueue } from '../src/queue/job-queue.service';

/** Backends of this database that pg-boss opened for a process of `role`. */
async function queueConnections(db: Client, role: Role): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
    [`messaging-service-queue-${role}`],
  );
  return rows[0].n;
}

describe('JobQueue shutdown (e2e)', () => {
  const url = process.env.TEST_DATABASE_URL as string;
  const db = new Client({ connectionString: url });

  beforeAll(() => db.connect());
  afterAll(() => db.end());

  // What follows the queue at shutdown (TypeORM, then the embedded PostgreSQL) must find
  // pg-boss's connections gone: PostgreSQL stopping would end one still closing with
  // "terminating connection due to administrator command", a queue error in a clean
  // shutdown (graceful-shutdown e2e, Ctrl-C case, seen 1 run in 5).
  it('has closed every connection of pg-boss when onApplicationShutdown resolves', async () => {
    const queue = new JobQueue(url, { role: Role.Api, shutdownGraceMs: 1_000 } as ConfigType<typeof appConfig>);
    await queue.onModuleInit();
    // Several queries at once, so the pool holds several connections.
    expect(await Promise.all(Array.from({ length: 5 }, () => queue.isReachable()))).toEqual([true, true, true, true, true]);
    expect(await queueConnections(db, Role.Api)).toBeGreaterThan(0);
    await queue.onApplicationShutdown();
    expect(await queueConnections(db, Role.Api)).toBe(0);
  });
});
