import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { ProviderDeferredError, ProviderRejectedError, ProviderUnavailableError } from '../../common/errors/provider-errors';
import { appConfig } from '../../config/app.config';
import { ProviderGate } from '../../providers/provider-gate';
import { ProviderRegistry } from '../../providers/provider.registry';
import { NaturalBatcher } from '../../common/batching/natural-batcher';
import { channelOf } from '../../common/channel';
import { DeliveryReceiptsService } from '../delivery-receipts.service';
import { entityFromRow } from '../../database/entity-from-row';
import { Message, MessageError } from '../message.entity';
import { roundBackoffMs, roundsSoFar } from './delivery-backoff';
import { DELIVERY_QUEUE, DeliveryQueue } from './delivery.queue';

const PENDING = In(['queued', 'sending']);

/** Most claims in one UPDATE, and such UPDATEs at a time per process. */
const CLAIM_BATCH_MAX = 64;
const CLAIM_BATCHES_AT_ONCE = 2;

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
  /** Claims of rounds that start at about the same time, made by one UPDATE (claimBatch). */
  private readonly claims = new NaturalBatcher<string, Message | null>((ids) => this.claimBatch(ids), {
    maxBatchSize: CLAIM_BATCH_MAX,
    maxConcurrentBatches: CLAIM_BATCHES_AT_ONCE,
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly providers: ProviderRegistry,
    private readonly gate: ProviderGate,
    private readonly queue: DeliveryQueue,
    private readonly receipts: DeliveryReceiptsService,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  /**
   * Runs one delivery round for a message; a no-op when it is no longer pending.
   * @throws only for failures of ours (database), so that the queue retries the job
   */
  async deliver(messageId: string): Promise<void> {
    const message = await this.claim(messageId);
    if (!message) return;
    if (this.msUntilExpiry(message) <= 0) {
      await this.fail(message, message.attempts, this.expired(message));
      return;
    }
    const { maxAttempts, inlineRetries } = this.config.delivery;
    const remaining = maxAttempts - (message.attempts - message.probeAttempts);
    if (remaining <= 0) {
      await this.fail(message, message.attempts, { code: 'retries_exhausted', message: message.error?.message ?? 'no attempts left' });
      return;
    }
    const provider = this.providers.forChannel(channelOf(message.type));
    try {
      const result = await this.gate.send(
        provider,
        { ...message, idempotencyKey: message.idempotencyKey },
        { maxAttempts: Math.min(inlineRetries + 1, remaining) },
      );
      // A receipt that overtook this write was held: it is applied with it (see DeliveryReceiptsService).
      await this.receipts.recordSent({
        messageId: message.id,
        provider: message.provider,
        providerMessageId: result.providerMessageId,
        attempts: message.attempts + result.attempts,
        sentAt: new Date(),
      });
    } catch (error) {
      if (error instanceof ProviderRejectedError) {
        await this.fail(message, message.attempts + error.attempts, { code: 'provider_rejected', message: error.message });
      } else if (error instanceof ProviderDeferredError) {
        // Not the provider's failure: only the requests really made count as attempts.
        await this.requeue(message, message.attempts + error.attempts, { code: error.code, message: error.message }, error.retryAfterMs, error.probeAttempts);
      } else if (error instanceof ProviderUnavailableError) {
        await this.defer(message, message.attempts + error.attempts, error);
      } else {
        throw error;
      }
    }
  }

  /**
   * Starts a round: marks the message `sending` and reads it, in one statement (shared
   * with the rounds that start at about the same time: claimBatch), only if it is
   * outbound and `queued` or `sending`. A message found `sending` already gets one
   * attempt added, in the same statement: an earlier round died (its worker was killed)
   * after it marked the message and before it recorded the outcome, so it may have made
   * a request. Stored at once, so that `attempts` never falls behind what reached the
   * provider, and a message that kills its worker every time still runs out of attempts.
   * @returns the message as it is now (`sending`), or null when it is not a pending outbound message
   */
  private claim(messageId: string): Promise<Message | null> {
    return this.claims.submit(messageId);
  }

  /**
   * claim() for the rounds that start at about the same time, in one UPDATE. Two jobs of
   * one message in the same batch both get the message (one UPDATE changes a row once),
   * as both would run a round anyway; the idempotency key keeps the provider from
   * sending it twice.
   * @returns the claimed message or null for each id, in order
   */
  private async claimBatch(messageIds: readonly string[]): Promise<(Message | null)[]> {
    const [rows] = (await this.dataSource.query(
      `UPDATE messages
          SET status = 'sending', attempts = attempts + CASE WHEN status = 'sending' THEN 1 ELSE 0 END, updated_at = now()
        WHERE id = ANY($1::bigint[]) AND direction = 'outbound' AND status IN ('queued', 'sending')
       RETURNING *`,
      [messageIds],
    )) as [Record<string, unknown>[], number];
    const { metadata } = this.dataSource.getRepository(Message);
    const claimed = new Map(rows.map((row) => [String(row.id), row]));
    return messageIds.map((id) => {
      const row = claimed.get(id);
      return row ? entityFromRow<Message>(metadata, row) : null;
    });
  }

  /**
   * Handles the dead letter of a message's delivery job: the job failed on our side
   * (the round threw, or its worker died) on every one of its runs. A message still
   * pending is failed with `internal_error`, so that it does not stay `queued` without a
   * job and can be re-queued with POST /api/messages/:id/retry. A message that reached
   * an outcome meanwhile (or has another job that will) is left alone: only a pending
   * message without a waiting or running delivery job is failed.
   * @throws for failures of ours (database), so that the dead letter is retried
   */
  async deadLetter(messageId: string): Promise<void> {
    const [, affected] = await this.dataSource.query(
      `UPDATE messages SET status = 'failed', error = $2, updated_at = now()
        WHERE id = $1 AND direction = 'outbound' AND status IN ('queued', 'sending')
          AND NOT EXISTS (SELECT 1 FROM pgboss.job
                           WHERE name = $3 AND data->>'messageId' = $1::text AND state IN ('created', 'retry', 'active'))`,
      [messageId, { code: 'internal_error', message: 'delivery failed on the service\'s side on every retry of its job; see the service logs' }, DELIVERY_QUEUE],
    );
    if (affected) this.logger.error(`Message ${messageId} failed: its delivery job failed on our side on every retry (dead letter)`);
  }

  private async fail(message: Message, attempts: number, reason: MessageError): Promise<void> {
    this.logger.warn(`Message ${message.id} failed after ${attempts} attempts: ${reason.code}`);
    await this.dataSource.getRepository(Message).update({ id: message.id, status: PENDING }, { status: 'failed', attempts, error: reason });
  }

  /**
   * After retryable failures: enqueues the next round after the longer of the provider's
   * Retry-After and the round backoff (roundBackoffMs, DELIVERY_BACKOFF_BASE_S/_MAX_S),
   * or fails the message when no attempts are left.
   */
  private async defer(message: Message, attempts: number, error: ProviderUnavailableError): Promise<void> {
    const { maxAttempts, inlineRetries, roundBackoffBaseMs, roundBackoffMaxMs } = this.config.delivery;
    const counted = attempts - message.probeAttempts;
    if (counted >= maxAttempts) {
      await this.fail(message, attempts, { code: 'retries_exhausted', message: error.message });
      return;
    }
    const backoffMs = roundBackoffMs(roundsSoFar(counted, inlineRetries), roundBackoffBaseMs, roundBackoffMaxMs);
    const delayMs = Math.max(error.retryAfterMs ?? 0, backoffMs);
    await this.requeue(message, attempts, { code: 'provider_unavailable', message: error.message }, delayMs);
  }

  /**
   * Puts the message back to `queued` with `reason` and, in the same transaction,
   * enqueues its next round after `delayMs` (capped at DELIVERY_DEFER_MAX_S, and at the
   * message's expiry, so that the round that fails it runs on time; whole seconds,
   * rounded up). A message past DELIVERY_MAX_AGE_S is failed with `expired` instead.
   * @param probeAttempts requests of this round made as a circuit's failed test call (added to probe_attempts)
   */
  private async requeue(message: Message, attempts: number, reason: MessageError, delayMs: number, probeAttempts = 0): Promise<void> {
    const untilExpiryMs = this.msUntilExpiry(message);
    if (untilExpiryMs <= 0) {
      await this.fail(message, attempts, this.expired(message, reason));
      return;
    }
    const waitMs = Math.min(delayMs, this.config.delivery.deferMaxMs, untilExpiryMs);
    await this.dataSource.transaction(async (manager) => {
      const { affected } = await manager.update(Message, { id: message.id, status: PENDING }, { status: 'queued', attempts, probeAttempts: message.probeAttempts + probeAttempts, error: reason });
      if (affected) await this.queue.enqueue(message.id, manager, Math.ceil(waitMs / 1000));
    });
  }

  /** @returns ms left until DELIVERY_MAX_AGE_S have passed since the message was accepted (<= 0: expired) */
  private msUntilExpiry(message: Message): number {
    return message.acceptedAt.getTime() + this.config.delivery.maxAgeMs - Date.now();
  }

  /** The `expired` reason, naming the last error the message met. */
  private expired(message: Message, last: MessageError | null = message.error): MessageError {
    const age = `not delivered within DELIVERY_MAX_AGE_S (${this.config.delivery.maxAgeMs / 1000} s) of its acceptance`;
    return { code: 'expired', message: last ? `${age}; last error: ${last.message}` : age };
  }
}
