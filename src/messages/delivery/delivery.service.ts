import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { ProviderDeferredError, ProviderRejectedError, ProviderUnavailableError } from '../../common/errors/provider-errors';
import { backoffDelay } from '../../common/http/retry';
import { appConfig } from '../../config/app.config';
import { ProviderGate } from '../../providers/provider-gate';
import { ProviderRegistry } from '../../providers/provider.registry';
import { channelOf } from '../../common/channel';
import { Message, MessageError } from '../message.entity';
import { DeliveryQueue } from './delivery.queue';

const PENDING = In(['queued', 'sending']);

/**
 * Delivers one outbound message per job: calls its provider through the ProviderGate
 * (circuit breaker, provider pause, pacing; inline retries through the provider's
 * HttpService), then records `sent`, `failed`, or defers the message to a later job:
 * with backoff (or the provider's Retry-After) after retryable failures until
 * DELIVERY_MAX_ATTEMPTS, or for as long as the gate says without counting an attempt.
 * A message older than DELIVERY_MAX_AGE_S is failed with `expired` instead.
 * Safe to run twice for the same message: the idempotency key makes the provider send
 * once, and only pending messages change state.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly providers: ProviderRegistry,
    private readonly gate: ProviderGate,
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
    // Still `sending`: an earlier round died (its worker was killed) after it marked the
    // message and before it recorded the outcome, so it may have made a request. Count
    // one, so that `attempts` does not fall behind and a message that kills its worker
    // every time still ends at DELIVERY_MAX_ATTEMPTS.
    if (message.status === 'sending') message.attempts += 1;
    if (this.msUntilExpiry(message) <= 0) {
      await this.fail(message, message.attempts, this.expired(message));
      return;
    }
    const { maxAttempts, inlineRetries } = this.config.delivery;
    const remaining = maxAttempts - message.attempts;
    if (remaining <= 0) {
      await this.fail(message, message.attempts, { code: 'retries_exhausted', message: message.error?.message ?? 'no attempts left' });
      return;
    }
    await repo.update({ id: message.id, status: PENDING }, { status: 'sending' });
    const provider = this.providers.forChannel(channelOf(message.type));
    try {
      const result = await this.gate.send(
        provider,
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
      } else if (error instanceof ProviderDeferredError) {
        // Not the provider's failure: only the requests really made count as attempts.
        await this.requeue(message, message.attempts + error.attempts, { code: error.code, message: error.message }, error.retryAfterMs);
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

  /**
   * After retryable failures: enqueues the next round after the longer of the provider's
   * Retry-After and the backoff for `attempts`, or fails the message when no attempts are left.
   */
  private async defer(message: Message, attempts: number, error: ProviderUnavailableError): Promise<void> {
    const { maxAttempts, backoffBaseMs, backoffMaxMs } = this.config.delivery;
    if (attempts >= maxAttempts) {
      await this.fail(message, attempts, { code: 'retries_exhausted', message: error.message });
      return;
    }
    const delayMs = Math.max(error.retryAfterMs ?? 0, backoffDelay(attempts, backoffBaseMs, backoffMaxMs));
    await this.requeue(message, attempts, { code: 'provider_unavailable', message: error.message }, delayMs);
  }

  /**
   * Puts the message back to `queued` with `reason` and, in the same transaction,
   * enqueues its next round after `delayMs` (capped at DELIVERY_DEFER_MAX_S, and at the
   * message's expiry, so that the round that fails it runs on time; whole seconds,
   * rounded up). A message past DELIVERY_MAX_AGE_S is failed with `expired` instead.
   */
  private async requeue(message: Message, attempts: number, reason: MessageError, delayMs: number): Promise<void> {
    const untilExpiryMs = this.msUntilExpiry(message);
    if (untilExpiryMs <= 0) {
      await this.fail(message, attempts, this.expired(message, reason));
      return;
    }
    const waitMs = Math.min(delayMs, this.config.delivery.deferMaxMs, untilExpiryMs);
    await this.dataSource.transaction(async (manager) => {
      const { affected } = await manager.update(Message, { id: message.id, status: PENDING }, { status: 'queued', attempts, error: reason });
      if (affected) await this.queue.enqueue(message.id, manager, Math.ceil(waitMs / 1000));
    });
  }

  /** @returns ms left until the message is DELIVERY_MAX_AGE_S old (<= 0: expired) */
  private msUntilExpiry(message: Message): number {
    return message.createdAt.getTime() + this.config.delivery.maxAgeMs - Date.now();
  }

  /** The `expired` reason, naming the last error the message met. */
  private expired(message: Message, last: MessageError | null = message.error): MessageError {
    const age = `not delivered within DELIVERY_MAX_AGE_S (${this.config.delivery.maxAgeMs / 1000} s) of its creation`;
    return { code: 'expired', message: last ? `${age}; last error: ${last.message}` : age };
  }
}
