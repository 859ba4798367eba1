import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere, Repository } from 'typeorm';
import { channelOf, type MessageType } from '../common/channel';
import { ConflictError, FieldError, NotFoundError, ValidationError } from '../common/errors/app-error';
import type { PageRequest } from '../common/http/pagination';
import { ConversationsService } from '../conversations/conversations.service';
import { ProviderRegistry } from '../providers/provider.registry';
import { DeliveryQueue } from './delivery/delivery.queue';
import { MessageOutcomeWatcher, PENDING_STATUSES } from './message-outcome.watcher';
import { contentErrors, resolveTimestamp } from './message-rules';
import { Message, MessageDirection, MessageError, MessageStatus } from './message.entity';
import { receiptSources, type ReceiptStatus } from './receipt-transition';

/** A message as a client or a provider hands it over, before validation of its type rules. */
export interface IncomingMessage {
  type: MessageType;
  from: string;
  to: string;
  body: string;
  attachments?: string[] | null;
  /** ISO 8601 with a zone; absent means now. */
  timestamp?: string;
}

/** An inbound message, with the provider's id for it. */
export interface InboundMessage extends IncomingMessage {
  providerMessageId: string;
}

/** Filters of the message list; each one given must match. */
export interface MessageFilter {
  status?: MessageStatus;
  conversationId?: string;
  type?: MessageType;
  direction?: MessageDirection;
}

/** A provider's delivery receipt (status callback) for an outbound message. */
export interface DeliveryReceipt {
  providerMessageId: string;
  status: ReceiptStatus;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** The provider's name; absent: any provider (the id must then name one outbound message). */
  provider?: string | null;
}

/** Thrown inside the inbound transaction when the provider message id is already stored. */
class DuplicateInbound extends Error {}

/** Stores messages in their conversations, queues outbound delivery, reads messages. */
@Injectable()
export class MessagesService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(MessagesService.name);
  /** Requests waiting for delivery outcomes (Prefer: wait), polled together every 100 ms. */
  private readonly outcomes: MessageOutcomeWatcher;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Message) private readonly messages: Repository<Message>,
    private readonly conversations: ConversationsService,
    private readonly providers: ProviderRegistry,
    private readonly deliveryQueue: DeliveryQueue,
  ) {
    this.outcomes = new MessageOutcomeWatcher(
      (ids) =>
        this.messages
          .createQueryBuilder('m')
          .where('m.id = ANY(:ids)', { ids })
          .andWhere('m.status NOT IN (:...pending)', { pending: PENDING_STATUSES })
          .getMany(),
      100,
      (error) => this.logger.warn(`Polling delivery outcomes failed: ${(error as Error).message}`),
    );
  }

  /** Ends every pending `Prefer: wait` at once (each answers 202) before the database closes. */
  beforeApplicationShutdown(): void {
    this.outcomes.close();
  }

  /**
   * Accepts an outbound message: stores it `queued` and enqueues its delivery in one
   * transaction, so an accepted message is never lost.
   * @returns the stored message
   * @throws ValidationError when an address, the content or the timestamp breaks a rule
   */
  async send(input: IncomingMessage): Promise<Message> {
    const draft = this.prepare(input, 'outbound');
    return this.dataSource.transaction(async (manager) => {
      const message = await this.insert(manager, draft);
      if (!message) throw new Error('outbound insert skipped'); // only inbound inserts may skip
      await this.deliveryQueue.enqueue(message.id, manager);
      return message;
    });
  }

  /**
   * Stores an inbound message from a provider webhook, once per provider message id:
   * a redelivered webhook (also concurrently) returns the stored message.
   * @returns the stored message, new or earlier
   * @throws ValidationError when an address, the content or the timestamp breaks a rule
   */
  async receive(input: InboundMessage): Promise<Message> {
    const draft = { ...this.prepare(input, 'inbound'), providerMessageId: input.providerMessageId };
    try {
      return await this.dataSource.transaction(async (manager) => {
        const message = await this.insert(manager, draft, true);
        if (!message) throw new DuplicateInbound();
        return message;
      });
    } catch (error) {
      if (!(error instanceof DuplicateInbound)) throw error;
      return this.messages.findOneByOrFail({ provider: draft.provider, providerMessageId: input.providerMessageId });
    }
  }

  /** @throws NotFoundError when there is no message `id` */
  async get(id: string): Promise<Message> {
    const message = await this.messages.findOneBy({ id });
    if (!message) throw new NotFoundError(`Message ${id} does not exist`);
    return message;
  }

  /**
   * @returns one page of a conversation's messages, oldest first (by timestamp, then id), and the total
   * @throws NotFoundError when the conversation does not exist
   */
  async listByConversation(conversationId: string, page: PageRequest): Promise<[Message[], number]> {
    await this.conversations.get(conversationId);
    return this.messages.findAndCount({
      where: { conversationId },
      order: { timestamp: 'ASC', id: 'ASC' },
      skip: page.offset,
      take: page.perPage,
    });
  }

  /**
   * @returns one page of messages matching every given filter, newest first (created_at,
   *   then id, both descending), and the number of matching messages
   */
  async list(filter: MessageFilter, page: PageRequest): Promise<[Message[], number]> {
    const where: FindOptionsWhere<Message> = {};
    if (filter.status !== undefined) where.status = filter.status;
    if (filter.conversationId !== undefined) where.conversationId = filter.conversationId;
    if (filter.type !== undefined) where.type = filter.type;
    if (filter.direction !== undefined) where.direction = filter.direction;
    return this.messages.findAndCount({ where, order: { createdAt: 'DESC', id: 'DESC' }, skip: page.offset, take: page.perPage });
  }

  /**
   * Re-queues a `failed` outbound message: status `queued`, attempts 0, no error, and a
   * new delivery job enqueued in the same transaction. The idempotency key stays, so a
   * provider that took the message on an attempt we never heard back from does not send
   * it twice. Only a message the provider accepted and then reported `failed` (a delivery
   * receipt; it has a provider message id) gets a new key and loses its provider message id
   * and sent_at: the provider would take the old key for the same message and not send it
   * again. Safe against concurrent retries: one of them re-queues, the others get 409.
   * @returns the re-queued message
   * @throws NotFoundError when there is no message `id`
   * @throws ConflictError when the message is inbound or not `failed`
   */
  async retry(id: string): Promise<Message> {
    return this.dataSource.transaction(async (manager) => {
      const { affected } = await manager
        .createQueryBuilder()
        .update(Message)
        .set({
          status: 'queued',
          attempts: 0,
          error: null,
          providerMessageId: null,
          sentAt: null,
          idempotencyKey: () => 'CASE WHEN "provider_message_id" IS NULL THEN "idempotency_key" ELSE gen_random_uuid() END',
        })
        .where('id = :id AND direction = :direction AND status = :status', { id, direction: 'outbound', status: 'failed' })
        .execute();
      if (!affected) {
        const message = await manager.findOneBy(Message, { id });
        if (!message) throw new NotFoundError(`Message ${id} does not exist`);
        if (message.direction !== 'outbound') throw new ConflictError(`Message ${id} is inbound; only outbound messages can be retried`);
        throw new ConflictError(`Message ${id} is ${message.status}; only failed messages can be retried`);
      }
      await this.deliveryQueue.enqueue(id, manager);
      return manager.findOneByOrFail(Message, { id });
    });
  }

  /**
   * Applies a provider's delivery receipt to the outbound message it names. The move
   * follows receiptTransition() (receipt-transition.ts): out of `queued`, `sending` or
   * `sent` (a receipt may overtake our own bookkeeping), never out of `delivered`,
   * `undelivered` or `failed`. It is one conditional UPDATE (`... WHERE status IN
   * (sources)`), so of concurrent receipts exactly one moves the message, and a repeated
   * or late receipt changes nothing. `undelivered` and `failed` record the provider's
   * error as the message's error (default codes `undelivered` and `delivery_failed`);
   * `delivered` clears it. A message moved out of `queued`/`sending` gets sent_at now.
   * @returns the message as it is after the receipt (changed or not)
   * @throws NotFoundError when no outbound message has that provider message id
   * @throws ConflictError when, without `provider`, the id names messages of several providers
   */
  async applyReceipt(receipt: DeliveryReceipt): Promise<Message> {
    const where: FindOptionsWhere<Message> = { providerMessageId: receipt.providerMessageId, direction: 'outbound' };
    if (receipt.provider) where.provider = receipt.provider;
    const matches = await this.messages.find({ select: { id: true }, where, take: 2 });
    if (matches.length === 0) {
      const of = receipt.provider ? ` of provider ${receipt.provider}` : '';
      throw new NotFoundError(`No outbound message${of} has provider_message_id ${receipt.providerMessageId}`);
    }
    if (matches.length > 1) {
      throw new ConflictError(`provider_message_id ${receipt.providerMessageId} names messages of several providers; give \`provider\``);
    }
    const { id } = matches[0];
    const error: MessageError | null =
      receipt.status === 'delivered'
        ? null
        : {
            code: receipt.errorCode || (receipt.status === 'failed' ? 'delivery_failed' : 'undelivered'),
            message: receipt.errorMessage || `The provider reported the message ${receipt.status}`,
          };
    await this.messages
      .createQueryBuilder()
      .update(Message)
      .set({ status: receipt.status, error, sentAt: () => 'COALESCE("sent_at", now())' })
      .where('id = :id AND status IN (:...sources)', { id, sources: receiptSources(receipt.status) })
      .execute();
    return this.messages.findOneByOrFail({ id });
  }

  /**
   * Waits until an outbound message's delivery has an outcome (`sent`, `delivered`,
   * `undelivered` or `failed`), for `Prefer: wait`. Holds no database connection while
   * waiting: the message is polled (every ~100 ms, one query for all waiting requests).
   * @param timeoutMs longest wait
   * @param signal stops the wait early when aborted (the client went away)
   * @returns the message with its outcome, or after the timeout as it is then (still
   *   `queued`/`sending`; `message` itself when the database cannot be read)
   */
  async waitForOutcome(message: Message, timeoutMs: number, signal?: AbortSignal): Promise<Message> {
    const settled = await this.outcomes.wait(message.id, timeoutMs, signal);
    if (settled) return settled;
    return (await this.messages.findOneBy({ id: message.id }).catch(() => null)) ?? message;
  }

  /** Validates and normalises a message; collects every broken rule before throwing. */
  private prepare(input: IncomingMessage, direction: MessageDirection) {
    const channel = channelOf(input.type);
    const errors: FieldError[] = [];
    const address = (field: 'from' | 'to') => {
      const normalized = this.conversations.normalizeParticipant(channel, input[field]);
      if (!normalized) {
        errors.push({ field, message: channel === 'email' ? 'must be an email address' : 'must be a phone number (E.164, e.g. +12015550123)' });
      }
      return normalized ?? '';
    };
    const from = address('from');
    const to = address('to');
    const attachments = input.attachments ?? [];
    errors.push(...contentErrors(input.type, input.body, attachments));
    const timestamp = resolveTimestamp(input.timestamp, direction === 'outbound');
    if (!(timestamp instanceof Date)) errors.push(timestamp);
    if (errors.length > 0) throw new ValidationError(errors);
    return {
      channel,
      type: input.type,
      direction,
      status: direction === 'outbound' ? ('queued' as const) : ('received' as const),
      from,
      to,
      body: input.body,
      attachments,
      timestamp: timestamp as Date,
      provider: this.providers.forChannel(channel).name,
    };
  }

  /**
   * Inserts a message and counts it in its conversation.
   * @param skipDuplicate when true, a message whose (provider, provider_message_id) is
   *   already stored is not inserted and null is returned
   */
  private async insert(
    manager: EntityManager,
    draft: ReturnType<MessagesService['prepare']> & { providerMessageId?: string },
    skipDuplicate = false,
  ): Promise<Message | null> {
    const { channel, ...fields } = draft;
    const conversationId = await this.conversations.recordMessage(manager, channel, fields.from, fields.to);
    const query = manager.createQueryBuilder().insert().into(Message).values({ ...fields, conversationId });
    if (skipDuplicate) query.orIgnore();
    const result = await query.returning('id').execute();
    const id = (result.raw as { id: string }[])[0]?.id;
    return id === undefined ? null : manager.findOneByOrFail(Message, { id });
  }
}
