import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { appConfig } from '../../config/app.config';
import { JobQueue } from '../../queue/job-queue.service';

/** Name of the pg-boss queue of outbound deliveries. */
export const DELIVERY_QUEUE = 'message-delivery';

/**
 * Name of the dead-letter queue of deliveries: pg-boss copies a delivery job here once
 * it failed for good on our side (its JOB_RETRY_LIMIT retries failed or expired).
 */
export const DELIVERY_DEAD_LETTER_QUEUE = 'message-delivery-dead-letter';

/** Retries of a delivery job whose round threw (a failure of ours, not of the provider). */
const JOB_RETRY_LIMIT = 20;

/** Payload of a delivery job (and of its dead letter). */
export interface DeliveryJob {
  messageId: string;
}

/** The outbound delivery queue: one job per delivery attempt round of a message. */
@Injectable()
export class DeliveryQueue implements OnModuleInit {
  constructor(
    private readonly queue: JobQueue,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  async onModuleInit(): Promise<void> {
    // Dead letters are handled once; a failure to record one is retried like a delivery.
    await this.queue.ensureQueue(DELIVERY_DEAD_LETTER_QUEUE, { retryLimit: JOB_RETRY_LIMIT, retryDelaySeconds: 2, expireInSeconds: 60 });
    await this.queue.ensureQueue(DELIVERY_QUEUE, {
      // Retries of jobs whose handler failed on our side (database down, crash); provider
      // failures are retried by deferred jobs instead (DeliveryService).
      retryLimit: JOB_RETRY_LIMIT,
      retryDelaySeconds: 2,
      expireInSeconds: this.config.delivery.jobExpireSeconds,
      deadLetter: DELIVERY_DEAD_LETTER_QUEUE,
    });
  }

  /**
   * Enqueues delivery of a message.
   * @param manager the transaction that stored the message, so both commit together
   * @param delaySeconds run no earlier than this many seconds from now
   */
  async enqueue(messageId: string, manager?: EntityManager, delaySeconds?: number): Promise<void> {
    await this.queue.send<DeliveryJob>(DELIVERY_QUEUE, { messageId }, manager, delaySeconds);
  }

  /**
   * Enqueues delivery of several messages in one statement, to run at once.
   * @param manager the transaction that stored the messages, so all commit together
   */
  async enqueueMany(messageIds: readonly string[], manager: EntityManager): Promise<void> {
    await this.queue.sendMany<DeliveryJob>(DELIVERY_QUEUE, messageIds.map((messageId) => ({ messageId })), manager);
  }

  /**
   * Runs `handler` for delivery jobs, DELIVERY_CONCURRENCY at once, looking for new
   * jobs every 0.5 s while the queue is empty, until the queue's workers are stopped
   * (JobQueue.stopWorkers, at shutdown).
   */
  work(handler: (job: DeliveryJob) => Promise<void>): void {
    this.queue.work<DeliveryJob>(DELIVERY_QUEUE, this.config.delivery.concurrency, 0.5, (job) => handler(job.data));
  }

  /** Runs `handler` for dead letters (delivery jobs that failed for good), a few at once, polling every 5 s. */
  workDeadLetters(handler: (job: DeliveryJob) => Promise<void>): void {
    this.queue.work<DeliveryJob>(DELIVERY_DEAD_LETTER_QUEUE, 2, 5, (job) => handler(job.data));
  }
}
