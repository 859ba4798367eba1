import { Logger } from '@nestjs/common';
import { NaturalBatcher } from '../common/batching/natural-batcher';
import { ThrottledLog } from '../common/errors/throttled-log';

/** A job handed to a handler. */
export interface QueueJob<T> {
  id: string;
  data: T;
  /**
   * Seconds after it was fetched at which the queue counts the job lost and runs it
   * again (pg-boss: `expire_in`, a numeric that may arrive as a string). Without it a
   * failed write of the job's outcome is not tried again.
   */
  expireInSeconds?: number | string;
}

/** What a consumer needs of one queue: take jobs, and record how each ended. */
export interface ConsumerQueue<T> {
  /** Marks up to `batchSize` jobs active and returns them; none when the queue is empty. */
  fetch(batchSize: number): Promise<QueueJob<T>[]>;
  /** Marks jobs completed (several at once: QueueConsumer writes completions in batches). */
  complete(ids: string[]): Promise<unknown>;
  /** The queue retries the job later (its retry policy). */
  fail(id: string, error: Error): Promise<unknown>;
}

/** Optional behaviour of a QueueConsumer. */
export interface QueueConsumerOptions {
  /**
   * Tells whether an error means the queue's database is unreachable: a failed
   * complete()/fail() is then tried again, and such failures (of those writes and of
   * handlers) are logged as one outage (outageLogIntervalMs). Default: never.
   */
  retryRecordOn?: (error: unknown) => boolean;
  /** Pause between two tries of such a write, ms (default 1000). */
  recordRetryMs?: number;
  /**
   * Least time between two log lines about the same outage (a job failed or its outcome
   * could not be written because the database is unreachable, or was written later), ms
   * (default 5000): during an outage every running job meets it, and a line per job
   * says nothing the first one did not.
   */
  outageLogIntervalMs?: number;
}

/** What a stopped consumer did with the jobs it was running. */
export interface ConsumerStopResult {
  /** Jobs that ran when stop() was called (or were fetched by a fetch already under way) and finished in time. */
  finished: number;
  /**
   * Jobs still running when the time ran out. They stay active in the queue and are
   * run again once they expire (the handler must be safe to run twice).
   */
  abandoned: number;
}

/**
 * Runs a queue's jobs, up to `concurrency` at once, and can stop cleanly: stop() takes
 * no new job, waits for the fetch under way and the running jobs up to a deadline, and
 * tells which jobs it had to abandon.
 *
 * pg-boss's own `work()` does not allow that: its workers complete jobs without
 * waiting for the write, and `offWork()`/`stop()` cannot see a fetch in progress, so
 * jobs fetched during shutdown could start after the database pool was closed. This
 * loop uses the queue's public fetch/complete/fail instead. It also refills free slots
 * while other jobs still run (once a quarter of them is free), where a pg-boss worker
 * waits for its whole batch, and it completes the jobs that finish at about the same time
 * with one write (NaturalBatcher, one write at a time); failures are written one job at a time.
 */
export class QueueConsumer<T> {
  private readonly logger = new Logger(QueueConsumer.name);
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private loopDone?: Promise<void>;
  /** Ends the current wait of the loop early (stop, or a slot freed while all were busy). */
  private wake?: () => void;
  private waitingForSlot = false;
  private settledSinceStop = 0;
  /** Free slots to wait for before fetching again while jobs run: a quarter of the concurrency. */
  private readonly refillBatch: number;
  /** When the running stop() gives up on the running jobs (ms since the epoch). */
  private stopDeadline = Infinity;
  private readonly retryRecordOn: (error: unknown) => boolean;
  private readonly recordRetryMs: number;
  /** Completions of jobs that finished at about the same time, written with one complete() (NaturalBatcher). */
  private readonly completions: NaturalBatcher<string, void>;
  /** Jobs that failed because the database was unreachable. */
  private readonly jobOutageLog: ThrottledLog;
  /** Outcomes that could not be written because the database was unreachable. */
  private readonly recordOutageLog: ThrottledLog;
  /** Outcomes written at a later try, once the database was back. */
  private readonly recordRecoveredLog: ThrottledLog;

  /**
   * @param name queue name, for log lines
   * @param pollingIntervalMs pause before looking again when the queue was empty
   */
  constructor(
    private readonly name: string,
    private readonly queue: ConsumerQueue<T>,
    private readonly handler: (job: QueueJob<T>) => Promise<void>,
    private readonly concurrency: number,
    private readonly pollingIntervalMs: number,
    options: QueueConsumerOptions = {},
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
    this.refillBatch = Math.ceil(concurrency / 4);
    this.retryRecordOn = options.retryRecordOn ?? (() => false);
    this.recordRetryMs = options.recordRetryMs ?? 1_000;
    const outageLogIntervalMs = options.outageLogIntervalMs ?? 5_000;
    this.jobOutageLog = new ThrottledLog((line) => this.logger.warn(line), outageLogIntervalMs);
    this.recordOutageLog = new ThrottledLog((line) => this.logger.warn(line), outageLogIntervalMs);
    this.recordRecoveredLog = new ThrottledLog((line) => this.logger.log(line), outageLogIntervalMs);
    this.completions = new NaturalBatcher<string, void>(
      async (ids) => {
        await this.queue.complete([...ids]);
        return ids.map(() => undefined);
      },
      { maxBatchSize: concurrency, maxConcurrentBatches: 1 },
    );
  }

  /** Jobs running right now. */
  get active(): number {
    return this.running.size;
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /**
   * Takes no new job and waits up to `timeoutMs` for the running ones.
   * Calling it again waits for the same jobs (with the new time limit).
   */
  async stop(timeoutMs: number): Promise<ConsumerStopResult> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    this.stopDeadline = deadline;
    this.stopping = true;
    this.wake?.();
    // The fetch under way, if any, may still hand over jobs; they run like the others.
    await settleBefore(this.loopDone ?? Promise.resolve(), deadline);
    await settleBefore(Promise.allSettled([...this.running]), deadline);
    return { finished: this.settledSinceStop, abandoned: this.running.size };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const free = this.concurrency - this.running.size;
      // Under load, fetch once a quarter of the slots is free rather than per finished
      // job: a few times fewer fetch queries.
      if (free < this.refillBatch && this.running.size > 0) {
        this.waitingForSlot = true;
        await this.pause();
        this.waitingForSlot = false;
        continue;
      }
      let jobs: QueueJob<T>[] = [];
      const fetchedAt = Date.now();
      try {
        jobs = await this.queue.fetch(free);
      } catch (error) {
        this.logger.warn(`Fetching jobs of ${this.name} failed: ${(error as Error).message}`);
      }
      for (const job of jobs) this.run(job, fetchedAt);
      // Fewer jobs than free slots: the queue is empty for now, look again later.
      if (jobs.length < free && !this.stopping) await this.pause(this.pollingIntervalMs);
    }
  }

  /** @param fetchedAt when the fetch that returned `job` began (its expiry counts from a moment after that) */
  private run(job: QueueJob<T>, fetchedAt: number): void {
    const done: Promise<void> = this.settle(job, fetchedAt).finally(() => {
      this.running.delete(done);
      if (this.stopping) this.settledSinceStop++;
      if (this.waitingForSlot) this.wake?.();
    });
    this.running.add(done);
  }

  /** Runs the handler, then records the job completed, or failed (the queue retries it). */
  private async settle(job: QueueJob<T>, fetchedAt: number): Promise<void> {
    // Stop trying to record the outcome a retry interval before the job expires: by then
    // the queue will run it again anyway.
    const expireInMs = Number(job.expireInSeconds) * 1000;
    const recordDeadline = Number.isFinite(expireInMs) ? fetchedAt + expireInMs - this.recordRetryMs : fetchedAt;
    try {
      await this.handler(job);
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      const line = `Job ${job.id} of ${this.name} failed: ${reason.message}`;
      if (this.retryRecordOn(reason)) this.jobOutageLog.record(line);
      else this.logger.warn(line);
      await this.record(job, 'failed', () => this.queue.fail(job.id, reason), recordDeadline);
      return;
    }
    // When this write is lost the job expires and runs again; the handler is idempotent.
    // Written together with the completions of jobs that finished at about the same time:
    // a job completed a moment later changes nothing, the handler's work is recorded already.
    await this.record(job, 'completed', () => this.completions.submit(job.id), recordDeadline);
  }

  /**
   * Writes a job's outcome. When the write fails because the queue's database is
   * unreachable (retryRecordOn), it is tried again every recordRetryMs until `deadline`
   * (or the deadline of a stop()), so that once the database is back a failed job is
   * retried after its retry delay, not only after it has expired (DELIVERY_JOB_EXPIRE_S,
   * a minute by default), and a completed one does not run again. A write given up on
   * leaves the job active: it expires and runs again, as after a crash.
   */
  private async record(job: QueueJob<T>, outcome: 'completed' | 'failed', write: () => Promise<unknown>, deadline: number): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await write();
        if (tries > 1) this.recordRecoveredLog.record(`Recorded job ${job.id} of ${this.name} as ${outcome} at try ${tries}`);
        return;
      } catch (error) {
        const next = Date.now() + this.recordRetryMs;
        const again = this.retryRecordOn(error) && next <= deadline && next <= this.stopDeadline;
        if (tries === 1 || !again) {
          const then = again ? `; trying again every ${this.recordRetryMs} ms` : tries > 1 ? `; gave up after ${tries} tries (the job runs again once it expires)` : '';
          const line = `Could not record job ${job.id} of ${this.name} as ${outcome}: ${(error as Error).message}${then}`;
          if (again) this.recordOutageLog.record(line);
          else this.logger.warn(line);
        }
        if (!again) return;
        await new Promise((resolve) => setTimeout(resolve, this.recordRetryMs).unref());
      }
    }
  }

  /** Waits `ms` (or, without it, until woken); stop() always wakes it. */
  private pause(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => done(), ms);
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      this.wake = done;
      if (this.stopping) done();
    });
  }
}

/** Waits for `promise`, but not past `deadline` (ms since the epoch). */
async function settleBefore(promise: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
  try {
    await Promise.race([promise.then(() => undefined, () => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
