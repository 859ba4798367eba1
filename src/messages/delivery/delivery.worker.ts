import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { appConfig, Role } from '../../config/app.config';
import { DeliveryQueue } from './delivery.queue';
import { DeliveryService } from './delivery.service';

/** Starts delivering queued messages in processes whose ROLE is `all` or `worker`. */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeliveryWorker.name);

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly delivery: DeliveryService,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.role === Role.Api) return;
    await this.queue.work((job) => this.delivery.deliver(job.messageId));
    this.logger.log(`Delivery worker started (concurrency ${this.config.delivery.concurrency})`);
  }
}
