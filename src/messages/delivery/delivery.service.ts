import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { ProviderRejectedError, ProviderUnavailableError } from '../../common/errors/provider-errors';
import { backoffDelay } from '../../common/http/retry';
import { appConfig } from '../../config/app.config';
import { ProviderRegistry } from '../../providers/provider.registry';
import { channelOf } from '../../common/channel';
import { Message, MessageError } from '../message.entity';
import { DeliveryQueue } from './delivery.queue';

const PENDING = In(['queued', 'sending']);

/**
 * Delivers one outbound message per job: calls its provider (inline retries through the
 * provider's HttpService), then records `sent`, `failed`, or defers the message to a
 * later job with backoff (or the provider's Retry-After) until DELIVERY_MAX_ATTEMPTS.
 * Safe to run twice for the same message: the idempotency key makes the provider send
 * once, and only pending messages change state.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly providers: ProviderRegistry,
    private readonly queue: DeliveryQueue,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  /**
   * Runs one delivery round for a message; a no-op when it is no longer pending.
   * @throws only for failures of ours (database), so that the queue retries the job
   */
  async deliver(messageId: string): Promise<void> {
    const repo = this.dataSource.getRepository(Message);
    const message = await repo.findOneBy({ id: messageId, direction: 'outbound', status: PENDING });
    if (!message) return;
    const { maxAttempts, inlineRetries } = this.config.delivery;
    const remaining = maxAttempts - message.attempts;
    if (remaining <= 0) {
      await this.fail(message, message.attempts, { code: 'retries_exhausted', message: message.error?.message ?? 'no attempts left' });
      return;
    }
    await repo.update({ id: message.id, status: PENDING }, { status: 'sending' });
    const provider = this.providers.forChannel(channelOf(message.type));
    try {
      const result = await provider.send(
        { ...message, idempotencyKey: message.idempotencyKey },
        { maxAttempts: Math.min(inlineRetries + 1, remaining) },
      );
      await repo.update(
        { id: message.id, status: PENDING },
        { status: 'sent', providerMessageId: result.providerMessageId, sentAt: new Date(), attempts: message.attempts + result.attempts, error: null },
      );
    } catch (error) {
      if (error instanceof ProviderRejectedError) {
        await this.fail(message, message.attempts + error.attempts, { code: 'provider_rejected', message: error.message });
      } else if (error instanceof ProviderUnavailableError) {
        await this.defer(message, message.attempts + error.attempts, error);
      } else {
        throw error;
      }
    }
  }

  private async fail(message: Message, attempts: number, reason: MessageError): Promise<void> {
    this.logger.warn(`Message ${message.id} failed after ${attempts} attempts: ${reason.code}`);
    await this.dataSource.getRepository(Message).update({ id: message.id, status: PENDING }, { status: 'failed', attempts, error: reason });
  }

  /** Puts the message back to `queued` and enqueues its next round, or fails it when no attempts are left. */
  private async defer(message: Message, attempts: number, error: ProviderUnavailableError): Promise<void> {
    const { maxAttempts, backoffBaseMs, backoffMaxMs, deferMaxMs } = this.config.delivery;
    if (attempts >= maxAttempts) {
      await this.fail(message, attempts, { code: 'retries_exhausted', message: error.message });
      return;
    }
    const delayMs = Math.min(deferMaxMs, Math.max(error.retryAfterMs ?? 0, backoffDelay(attempts, backoffBaseMs, backoffMaxMs)));
    await this.dataSource.transaction(async (manager) => {
      const { affected } = await manager.update(
        Message,
        { id: message.id, status: PENDING },
        { status: 'queued', attempts, error: { code: 'provider_unavailable', message: error.message } },
      );
      if (affected) await this.queue.enqueue(message.id, manager, Math.ceil(delayMs / 1000));
    });
  }
}
