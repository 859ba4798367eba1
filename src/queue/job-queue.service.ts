import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import { EntityManager } from 'typeorm';
import { appConfig, Role } from '../config/app.config';
import { runsWorker } from '../config/roles';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
import { CONNECT_TIMEOUT_MS } from '../database/data-source-options';
import { DATABASE_URL } from '../database/database.module';
import { ConsumerStopResult, QueueConsumer, QueueJob } from './queue-consumer';

export type { QueueJob } from './queue-consumer';

/** Settings of one queue: pg-boss retries for jobs whose handler failed unexpectedly. */
export interface QueueSettings {
  /** Retries of a failed or expired job. */
  retryLimit: number;
  /** First retry delay, seconds; doubled per retry (retryBackoff). */
  retryDelaySeconds: number;
  /** Seconds after which an active job counts as lost (its worker died) and is retried. */
  expireInSeconds: number;
  /** Queue that receives a copy of a job (same data) once it failed for good: its last retry failed or expired. */
  deadLetter?: string;
}

/** node-postgres pool settings that pg-boss hands to its pg.Pool unchanged (its types omit them). */
interface PoolTimeouts {
  connectionTimeoutMillis: number;
  query_timeout: number;
}

/** Longest wait for one pg-boss query, ms: generous, as maintenance (archiving) may take a while on a big backlog. */
const QUEUE_QUERY_TIMEOUT_MS = 60_000;

/** Longest wait at shutdown for pg-boss's connections to close, ms. */
const CONNECTIONS_CLOSE_TIMEOUT_MS = 2_000;

/** Longest wait of the readiness probe's queue query, ms. */
const READINESS_TIMEOUT_MS = 2_000;

/**
 * pg-boss settings for a process of `role`. Only processes that run workers supervise
 * the queues (maintenance: expire lost jobs, retry, archive; every 10 s): a `ROLE=api`
 * process only enqueues. Cron scheduling is not used.
 */
export function pgBossOptions(url: string, role: Role): PgBoss.ConstructorOptions & PoolTimeouts {
  return {
    connectionString: url,
    application_name: `messaging-service-queue-${role}`,
    max: 5,
    // Fail fast when the database is unreachable (a partition sends no error): a failed
    // query releases its client with the error, so pg-pool discards the connection.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUEUE_QUERY_TIMEOUT_MS,
    supervise: runsWorker(role),
    schedule: false,
    maintenanceIntervalSeconds: 10,
  };
}

/**
 * Durable job queue in the service's own PostgreSQL (pg-boss 10). Jobs can be enqueued
 * inside a TypeORM transaction, so a job exists exactly when the transaction commits.
 */
@Injectable()
export class JobQueue implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(JobQueue.name);
  private readonly boss: PgBoss;
  private readonly consumers: QueueConsumer<unknown>[] = [];

  constructor(
    @Inject(DATABASE_URL) url: string,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {
    this.boss = new PgBoss(pgBossOptions(url, config.role));
    this.boss.on('error', (error) => this.logger.error(`Queue error: ${error.message}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
  }

  /**
   * Shutdown, before connections close: stop taking jobs and let the running ones
   * finish within SHUTDOWN_GRACE_MS (see stopWorkers).
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stopWorkers(this.config.shutdownGraceMs);
  }

  /**
   * Shutdown, after the HTTP server closed: close pg-boss and its pool, before TypeORM
   * and the embedded PostgreSQL (global modules, whose hooks Nest calls last).
   */
  async onApplicationShutdown(): Promise<void> {
    // The consumers stopped in beforeApplicationShutdown, and pg-boss runs no workers of
    // its own here (no boss.work()): nothing to wait for.
    const closed = this.connectionsClosed(CONNECTIONS_CLOSE_TIMEOUT_MS);
    await this.boss.stop({ graceful: false, close: true });
    await closed;
    this.logger.log('Queue closed (pg-boss and its connections)');
  }

  /**
   * Resolves once every connection pg-boss's pool holds now has closed, or after
   * `timeoutMs` (ms). pg-pool's `end()` resolves as soon as it has asked its connections
   * to close, not once they have; an embedded PostgreSQL stopped right after would
   * otherwise end a connection still closing with "terminating connection due to
   * administrator command" (57P01), a queue error during a clean shutdown. pg-pool emits
   * `remove` once a connection it ended has closed.
   */
  private connectionsClosed(timeoutMs: number): Promise<void> {
    const pool = (this.boss.getDb() as unknown as { pool?: Pool }).pool;
    let open = pool?.totalCount ?? 0;
    if (!pool || open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        pool.off('remove', onRemove);
        resolve();
      };
      const onRemove = (): void => {
        if (--open === 0) done();
      };
      const timer = setTimeout(done, timeoutMs);
      pool.on('remove', onRemove);
    });
  }

  /**
   * Stops every consumer of this process: no new job is fetched, running jobs get up
   * to `timeoutMs` to finish. Jobs still running then are abandoned: they stay active
   * and run again once they expire (expireInSeconds), in this or another process.
   * Queued jobs stay queued. Safe to call more than once.
   */
  async stopWorkers(timeoutMs: number): Promise<ConsumerStopResult> {
    if (this.consumers.length === 0) return { finished: 0, abandoned: 0 };
    const started = Date.now();
    const running = this.consumers.reduce((n, c) => n + c.active, 0);
    if (running > 0) this.logger.log(`Stopping queue workers: waiting up to ${timeoutMs} ms for ${running} running job(s)`);
    const results = await Promise.all(this.consumers.map((c) => c.stop(timeoutMs)));
    const total = results.reduce((sum, r) => ({ finished: sum.finished + r.finished, abandoned: sum.abandoned + r.abandoned }), { finished: 0, abandoned: 0 });
    const summary = `Queue workers stopped after ${Date.now() - started} ms: ${total.finished} job(s) finished`;
    if (total.abandoned > 0) {
      this.logger.warn(`${summary}, ${total.abandoned} still running abandoned (they run again once they expire)`);
    } else if (running > 0 || total.finished > 0) {
      this.logger.log(summary);
    }
    return total;
  }

  /** Creates the queue when missing and applies `settings` to it (a dead-letter queue must exist first). */
  async ensureQueue(name: string, settings: QueueSettings): Promise<void> {
    const options = {
      retryLimit: settings.retryLimit,
      retryDelay: settings.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: settings.expireInSeconds,
      ...(settings.deadLetter ? { deadLetter: settings.deadLetter } : {}),
    };
    if (!(await this.boss.getQueue(name))) {
      // Another process may create it at the same moment; then update what it made.
      await this.boss.createQueue(name, { name, ...options }).catch(() => undefined);
    }
    await this.boss.updateQueue(name, { name, ...options });
  }

  /**
   * Enqueues a job.
   * @param manager when given, the job is written in that TypeORM transaction
   * @param startAfterSeconds delay before the job may run
   * @returns the job id
   * @throws Error when the queue does not exist (pg-boss would return null silently)
   */
  async send<T extends object>(name: string, data: T, manager?: EntityManager, startAfterSeconds?: number): Promise<string> {
    const db = this.transactionDb(manager);
    const id = await this.boss.send(name, data, { ...(db ? { db } : {}), ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}) });
    if (!id) throw new Error(`Queue ${name} rejected the job (does it exist?)`);
    return id;
  }

  /**
   * Enqueues one job per payload in one statement (pg-boss insert), to run at once.
   * @param manager when given, the jobs are written in that TypeORM transaction
   */
  async sendMany<T extends object>(name: string, data: readonly T[], manager?: EntityManager): Promise<void> {
    const db = this.transactionDb(manager);
    await this.boss.insert(
      data.map((payload) => ({ name, data: payload })),
      db ? { db } : {},
    );
  }

  /** pg-boss's `db` option running its SQL on the connection of `manager`'s transaction. */
  private transactionDb(manager?: EntityManager): { executeSql(text: string, values: unknown[]): Promise<{ rows: any[] }> } | undefined {
    const runner = manager?.queryRunner;
    return runner ? { executeSql: async (text, values) => ({ rows: (await runner.query(text, values, true)).records }) } : undefined;
  }

  /**
   * Runs `handler` for jobs of `name`, up to `concurrency` at once, until stopWorkers().
   * A job completes when its handler resolves (jobs that finish at about the same time
   * are completed by one statement); when it throws, the job fails and pg-boss retries
   * it (the queue's retry settings).
   * @param pollingIntervalSeconds how often an idle consumer looks for jobs
   */
  work<T>(
    name: string,
    concurrency: number,
    pollingIntervalSeconds: number,
    handler: (job: QueueJob<T>) => Promise<void>,
  ): void {
    const consumer = new QueueConsumer<T>(
      name,
      {
        fetch: (batchSize) => this.boss.fetch<T>(name, { batchSize }),
        complete: (ids) => this.boss.complete(name, ids),
        fail: (id, error) => this.boss.fail(name, id, { message: error.message }),
      },
      handler,
      concurrency,
      pollingIntervalSeconds * 1000,
      // A job's outcome that could not be written while PostgreSQL was down is written
      // once it is back (until the job would expire anyway).
      { retryRecordOn: isDatabaseUnavailable },
    );
    this.consumers.push(consumer as QueueConsumer<unknown>);
    consumer.start();
  }

  /** @returns true when the queue's database answers a query within READINESS_TIMEOUT_MS */
  async isReachable(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READINESS_TIMEOUT_MS)));
    const query = this.boss
      .getDb()
      .executeSql('SELECT 1', [])
      .then(() => true, () => false);
    try {
      return await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
