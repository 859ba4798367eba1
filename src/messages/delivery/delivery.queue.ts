import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { appConfig } from '../../config/app.config';
import { JobQueue } from '../../queue/job-queue.service';

/** Name of the pg-boss queue of outbound deliveries. */
export const DELIVERY_QUEUE = 'message-delivery';

/** Payload of a delivery job. */
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
    await this.queue.ensureQueue(DELIVERY_QUEUE, {
      // Retries of jobs whose handler failed on our side (database down, crash); provider
      // failures are retried by deferred jobs instead (DeliveryService).
      retryLimit: 20,
      retryDelaySeconds: 2,
      expireInSeconds: this.config.delivery.jobExpireSeconds,
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
   * Runs `handler` for delivery jobs, DELIVERY_CONCURRENCY at once, looking for new
   * jobs every 0.5 s while the queue is empty, until the queue's workers are stopped
   * (JobQueue.stopWorkers, at shutdown).
   */
  work(handler: (job: DeliveryJob) => Promise<void>): void {
    this.queue.work<DeliveryJob>(DELIVERY_QUEUE, this.config.delivery.concurrency, 0.5, (job) => handler(job.data));
  }
}
