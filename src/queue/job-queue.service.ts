import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import PgBoss from 'pg-boss';
import { EntityManager } from 'typeorm';
import { appConfig, Role } from '../config/app.config';
import { DATABASE_URL } from '../database/database.module';

/** Settings of one queue: pg-boss retries for jobs whose handler failed unexpectedly. */
export interface QueueSettings {
  /** Retries of a failed or expired job. */
  retryLimit: number;
  /** First retry delay, seconds; doubled per retry (retryBackoff). */
  retryDelaySeconds: number;
  /** Seconds after which an active job counts as lost (its worker died) and is retried. */
  expireInSeconds: number;
}

/** A job handed to a handler. */
export interface QueueJob<T> {
  id: string;
  data: T;
}

/**
 * Durable job queue in the service's own PostgreSQL (pg-boss 10). Jobs can be enqueued
 * inside a TypeORM transaction, so a job exists exactly when the transaction commits.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JobQueue.name);
  private readonly boss: PgBoss;

  constructor(
    @Inject(DATABASE_URL) url: string,
    @Inject(appConfig.KEY) config: ConfigType<typeof appConfig>,
  ) {
    const runsWorkers = config.role !== Role.Api;
    this.boss = new PgBoss({
      connectionString: url,
      application_name: 'messaging-service-queue',
      max: 5,
      supervise: runsWorkers,
      schedule: false,
      maintenanceIntervalSeconds: 10,
    });
    this.boss.on('error', (error) => this.logger.error(`Queue error: ${error.message}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }

  /** Creates the queue when missing and applies `settings` to it. */
  async ensureQueue(name: string, settings: QueueSettings): Promise<void> {
    const options = {
      retryLimit: settings.retryLimit,
      retryDelay: settings.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: settings.expireInSeconds,
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
    const runner = manager?.queryRunner;
    const db = runner
      ? { executeSql: async (text: string, values: unknown[]) => ({ rows: (await runner.query(text, values, true)).records }) }
      : undefined;
    const id = await this.boss.send(name, data, { ...(db ? { db } : {}), ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}) });
    if (!id) throw new Error(`Queue ${name} rejected the job (does it exist?)`);
    return id;
  }

  /**
   * Runs `handler` for jobs of `name`, up to `concurrency` at once. A job completes when
   * its handler resolves; when it throws, the job fails and pg-boss retries it.
   * @param pollingIntervalSeconds how often an idle worker looks for jobs (>= 0.5)
   */
  async work<T>(
    name: string,
    concurrency: number,
    pollingIntervalSeconds: number,
    handler: (job: QueueJob<T>) => Promise<void>,
  ): Promise<void> {
    const workers = Math.min(concurrency, 4);
    const batchSize = Math.ceil(concurrency / workers);
    for (let i = 0; i < workers; i++) {
      await this.boss.work<T>(name, { batchSize, pollingIntervalSeconds }, async (jobs) => {
        await Promise.all(
          jobs.map(async (job) => {
            try {
              await handler(job);
            } catch (error) {
              this.logger.warn(`Job ${job.id} of ${name} failed: ${(error as Error).message}`);
              await this.boss.fail(name, job.id, { message: (error as Error).message }).catch(() => undefined);
            }
          }),
        );
      });
    }
  }

  /** @returns true when the queue's tables answer a query */
  async isReachable(): Promise<boolean> {
    try {
      await this.boss.getDb().executeSql('SELECT 1', []);
      return true;
    } catch {
      return false;
    }
  }
}
