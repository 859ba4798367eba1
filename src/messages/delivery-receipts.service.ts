import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere, In, IsNull } from 'typeorm';
import { NaturalBatcher } from '../common/batching/natural-batcher';
import { ConflictError, NotFoundError } from '../common/errors/app-error';
import { EarlyReceipt } from './early-receipt.entity';
import { Message, MessageError } from './message.entity';
import { receiptSources, type ReceiptStatus } from './receipt-transition';

/** A provider's delivery receipt (status callback) for an outbound message. */
export interface DeliveryReceipt {
  providerMessageId: string;
  status: ReceiptStatus;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** The provider's name; absent: any provider (the id must then name one outbound message). */
  provider?: string | null;
}

/** An outbound message the provider accepted, to be recorded `sent` (DeliveryReceiptsService.recordSent). */
export interface SentRecord {
  messageId: string;
  /** The message's provider (held receipts of another provider are not its own). */
  provider: string;
  /** The provider's id of the message, as its answer gave it. */
  providerMessageId: string;
  /** The message's attempts, this round's requests included. */
  attempts: number;
  sentAt: Date;
}

/** What record_sent_unless_held() did with one `sent` write. */
type SentOutcome = 'sent' | 'not_pending' | 'held';

/** Most `sent` writes in one call of record_sent_unless_held(), and calls at a time per process. */
const SENT_WRITE_BATCH_MAX = 64;
const SENT_WRITE_BATCHES_AT_ONCE = 2;

/** How long a receipt that names no stored message is held for one that may still take its id. */
const EARLY_RECEIPT_RETENTION = '1 day';

/** First key of the advisory locks on provider message ids (the second is the id's hash). */
export const RECEIPT_LOCK_CLASS = 7_302_411;

/**
 * Applies providers' delivery receipts (POST /api/webhooks/status) to outbound
 * messages, following receiptTransition() (receipt-transition.ts).
 *
 * A receipt may arrive before the delivery worker has recorded `sent` with the
 * provider message id it names (the provider calls back between its answer and our
 * write). Such a receipt is held in `early_receipts` while the provider has pending
 * (`queued`/`sending`) outbound messages, and applied by the write that records
 * `sent` with that id (recordSent). Both take a transaction-scoped advisory lock on the
 * provider message id first, so a receipt either sees the `sent` write or is seen by
 * it, never neither.
 */
@Injectable()
export class DeliveryReceiptsService {
  private readonly logger = new Logger(DeliveryReceiptsService.name);

  /**
   * `sent` writes of rounds that end at about the same time, written by one call of
   * record_sent_unless_held() (migration RecordSentFunction1796000000000): at most
   * SENT_WRITE_BATCH_MAX per call, SENT_WRITE_BATCHES_AT_ONCE calls at a time.
   */
  private readonly sentWrites = new NaturalBatcher<SentRecord, SentOutcome>((batch) => this.writeSent(batch), {
    maxBatchSize: SENT_WRITE_BATCH_MAX,
    maxConcurrentBatches: SENT_WRITE_BATCHES_AT_ONCE,
  });

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** @returns the outcome of each `sent` write, in order (one call of record_sent_unless_held()) */
  private async writeSent(batch: readonly SentRecord[]): Promise<SentOutcome[]> {
    const rows: { o_message_id: string; o_outcome: SentOutcome }[] = await this.dataSource.query(
      'SELECT o_message_id, o_outcome FROM record_sent_unless_held($1::bigint[], $2::varchar[], $3::varchar[], $4::int[], $5::timestamptz[], $6)',
      [
        batch.map((s) => s.messageId),
        batch.map((s) => s.provider),
        batch.map((s) => s.providerMessageId),
        batch.map((s) => s.attempts),
        batch.map((s) => s.sentAt),
        RECEIPT_LOCK_CLASS,
      ],
    );
    const outcomes = new Map(rows.map((row) => [String(row.o_message_id), row.o_outcome]));
    return batch.map((s) => {
      const outcome = outcomes.get(s.messageId);
      if (!outcome) throw new Error(`record_sent_unless_held() gave no outcome for message ${s.messageId}`);
      return outcome;
    });
  }

  /**
   * Applies a receipt to the outbound message with its provider message id. The move
   * is one conditional UPDATE (`... WHERE status IN (sources)`), so of concurrent
   * receipts exactly one moves the message, and a repeated or late receipt changes nothing.
   * `undelivered` and `failed` record the provider's error as the message's error (default
   * codes `undelivered` and `delivery_failed`); `delivered` clears it. A message moved out
   * of `queued`/`sending` gets sent_at now.
   * @returns the message as it is after the receipt (changed or not), or null when the
   *   receipt was held for a message not yet recorded `sent`
   * @throws NotFoundError when no outbound message has that id and none of the provider is pending
   * @throws ConflictError when, without `provider`, the id names messages of several providers
   */
  async apply(receipt: DeliveryReceipt): Promise<Message | null> {
    return this.dataSource.transaction(async (manager) => {
      await this.lockProviderMessageId(manager, receipt.providerMessageId);
      const where: FindOptionsWhere<Message> = { providerMessageId: receipt.providerMessageId, direction: 'outbound' };
      if (receipt.provider) where.provider = receipt.provider;
      const matches = await manager.find(Message, { select: { id: true }, where, take: 2 });
      if (matches.length > 1) {
        throw new ConflictError(`provider_message_id ${receipt.providerMessageId} names messages of several providers; give \`provider\``);
      }
      if (matches.length === 0) {
        if (await this.anyPending(manager, receipt.provider)) {
          await this.hold(manager, receipt);
          return null;
        }
        const of = receipt.provider ? ` of provider ${receipt.provider}` : '';
        throw new NotFoundError(`No outbound message${of} has provider_message_id ${receipt.providerMessageId}`);
      }
      await this.transition(manager, matches[0].id, receipt);
      return manager.findOneByOrFail(Message, { id: matches[0].id });
    });
  }

  /**
   * Records outbound message `sent.messageId` `sent`, with its provider message id,
   * sent_at and attempts, if it is still `queued` or `sending` (otherwise nothing
   * changes), and applies the receipts held for that provider message id (of its
   * provider, or naming none) in the same transaction, in order of arrival.
   *
   * Both this write and apply() take the transaction-scoped advisory lock of the
   * provider message id first, so a receipt either sees the `sent` write or is seen by
   * it. Usually no receipt is held: then the lock, the look at `early_receipts` and the
   * UPDATE are one call of the database function `record_sent_unless_held()` (migration
   * RecordSentFunction1796000000000), one round trip shared with the `sent` writes of
   * the rounds that end at about the same time (sentWrites). When receipts are held, that call
   * changes nothing, and the write is made again in a transaction that applies them
   * (receiptTransition rules, receipt-transition.ts).
   * @throws for database failures (nothing was recorded, or all of it was)
   */
  async recordSent(sent: SentRecord): Promise<void> {
    const outcome = await this.sentWrites.submit(sent);
    if (outcome !== 'held') return;
    await this.dataSource.transaction(async (manager) => {
      await this.lockProviderMessageId(manager, sent.providerMessageId);
      const { affected } = await manager.update(
        Message,
        { id: sent.messageId, status: In(['queued', 'sending']) },
        { status: 'sent', providerMessageId: sent.providerMessageId, sentAt: sent.sentAt, attempts: sent.attempts, error: null },
      );
      if (affected) await this.applyHeld(manager, sent.messageId, sent.provider, sent.providerMessageId);
    });
  }

  /** Takes the transaction-scoped advisory lock of `providerMessageId` (see recordSent). */
  private async lockProviderMessageId(manager: EntityManager, providerMessageId: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [RECEIPT_LOCK_CLASS, providerMessageId]);
  }

  /**
   * Applies, in order of arrival, the receipts held for `providerMessageId` (of
   * `provider`, or naming no provider) to message `messageId`, just recorded `sent`, and
   * deletes them. Call inside that transaction, after lockProviderMessageId().
   */
  private async applyHeld(manager: EntityManager, messageId: string, provider: string, providerMessageId: string): Promise<void> {
    const held = await manager.find(EarlyReceipt, {
      where: [
        { providerMessageId, provider },
        { providerMessageId, provider: IsNull() },
      ],
      order: { id: 'ASC' },
    });
    if (held.length === 0) return;
    for (const receipt of held) await this.transition(manager, messageId, receipt);
    await manager.delete(EarlyReceipt, { id: In(held.map((r) => r.id)) });
    this.logger.log(`Applied ${held.length} early receipt(s) to message ${messageId}`);
  }

  private async transition(manager: EntityManager, id: string, receipt: DeliveryReceipt): Promise<void> {
    const error: MessageError | null =
      receipt.status === 'delivered'
        ? null
        : {
            code: receipt.errorCode || (receipt.status === 'failed' ? 'delivery_failed' : 'undelivered'),
            message: receipt.errorMessage || `The provider reported the message ${receipt.status}`,
          };
    await manager
      .createQueryBuilder()
      .update(Message)
      .set({ status: receipt.status, error, sentAt: () => 'COALESCE("sent_at", now())' })
      .where('id = :id AND status IN (:...sources)', { id, sources: receiptSources(receipt.status) })
      .execute();
  }

  /** @returns true when `provider` (any provider when absent) has an outbound message that may still be recorded `sent` */
  private async anyPending(manager: EntityManager, provider?: string | null): Promise<boolean> {
    const where: FindOptionsWhere<Message> = { direction: 'outbound', status: In(['queued', 'sending']) };
    if (provider) where.provider = provider;
    return manager.exists(Message, { where });
  }

  /** Stores the receipt for applyHeld(), and purges held receipts older than EARLY_RECEIPT_RETENTION. */
  private async hold(manager: EntityManager, receipt: DeliveryReceipt): Promise<void> {
    await manager.query(`DELETE FROM early_receipts WHERE received_at < now() - $1::interval`, [EARLY_RECEIPT_RETENTION]);
    await manager.insert(EarlyReceipt, {
      provider: receipt.provider ?? null,
      providerMessageId: receipt.providerMessageId,
      status: receipt.status,
      errorCode: receipt.errorCode ?? null,
      errorMessage: receipt.errorMessage ?? null,
    });
  }
}
