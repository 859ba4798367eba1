import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { appConfig } from '../../config/app.config';
import { DeliveryQueue } from './delivery.queue';
import { DeliveryService } from './delivery.service';

/**
 * Delivers queued messages, and fails those whose delivery job failed for good on our
 * side (dead letters, DeliveryService.deadLetter). Registered only in processes that run the worker
 * (ROLE `all` or `worker`, see MessagesModule.forRole). It stops with the queue's
 * workers at shutdown (JobQueue.stopWorkers): no new job, running ones finish within
 * SHUTDOWN_GRACE_MS.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeliveryWorker.name);

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly delivery: DeliveryService,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  onApplicationBootstrap(): void {
    this.queue.work((job) => this.delivery.deliver(job.messageId));
    this.queue.workDeadLetters((job) => this.delivery.deadLetter(job.messageId));
    this.logger.log(`Delivery worker started (concurrency ${this.config.delivery.concurrency})`);
  }
}
