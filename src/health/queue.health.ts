import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { JobQueue } from '../queue/job-queue.service';

/** Terminus indicator: the job queue's tables answer a query. */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    private readonly queue: JobQueue,
    private readonly health: HealthIndicatorService,
  ) {}

  /** @returns `queue: up` or `queue: down` */
  async check(): Promise<HealthIndicatorResult<'queue'>> {
    const indicator = this.health.check('queue');
    return (await this.queue.isReachable()) ? indicator.up() : indicator.down({ message: 'queue database unreachable' });
  }
}
