import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere, Repository } from 'typeorm';
import { NaturalBatcher } from '../common/batching/natural-batcher';
import { channelOf, type MessageType } from '../common/channel';
import { ConflictError, FieldError, NotFoundError, ValidationError } from '../common/errors/app-error';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
import { type KeysetOrder, keysetPage, type KeysetPage } from '../common/http/cursor';
import type { CursorRequest, PageRequest } from '../common/http/pagination';
import { ConversationsService } from '../conversations/conversations.service';
import { entityFromRow } from '../database/entity-from-row';
import { IdempotencyService } from '../idempotency/idempotency.service';
import type { IdempotentRequest, StoredAnswer } from '../idempotency/idempotent-request';
import { OptOutsService } from '../opt-outs/opt-outs.service';
import type { RecipientOptedOutError } from '../opt-outs/recipient-opted-out.error';
import { ProviderRegistry } from '../providers/provider.registry';
import { DeliveryQueue } from './delivery/delivery.queue';
import { MessageOutcomeWatcher, PENDING_STATUSES } from './message-outcome.watcher';
import { bodySegments, contentErrors, resolveTimestamp } from './message-rules';
import { MESSAGE_RESPONSE_PROPERTIES, type MessageResponseSource } from './dto/message.response';
import { Message, MessageDirection, MessageStatus } from './message.entity';

/** Keyset order of a conversation's messages: timestamp, then id (index IDX_messages_conversation_timestamp). */
export const CONVERSATION_MESSAGES_ORDER: KeysetOrder = { list: 'conversation-messages', timeColumn: 'timestamp', direction: 'ASC' };

/** Keyset order of the message list: created_at, then id, both descending (IDX_messages_created_at, IDX_messages_status_created_at). */
export const MESSAGES_ORDER: KeysetOrder = { list: 'messages', timeColumn: 'created_at', direction: 'DESC' };

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

/** What a send with an idempotency key did: stored a new message, or found the answer to replay. */
export type IdempotentSendResult = { replayed: false; message: Message } | { replayed: true; answer: StoredAnswer };

/** Thrown inside the inbound transaction when the provider message id is already stored. */
class DuplicateInbound extends Error {}

/** Thrown inside a send transaction when recipients opted out: the refusal of each, by position in the batch. */
class OptedOutRecipients extends Error {
  constructor(readonly refusals: ReadonlyMap<number, RecipientOptedOutError>) {
    super('recipients opted out');
  }

  /** @returns the refusal of the first opted-out send (for a batch of one: storeOneQueued) */
  first(): RecipientOptedOutError {
    return this.refusals.values().next().value!;
  }
}

/** A validated, normalised message ready to store (MessagesService.prepare). */
type MessageDraft = ReturnType<MessagesService['prepare']>;

/** A send waiting for its batch: the message, and when it was submitted (performance.now(), ms). */
interface PendingSend {
  draft: MessageDraft;
  submittedAt: number;
}

/**
 * Sends stored together while others are being stored (NaturalBatcher): at most this
 * many in one transaction, and at most SEND_BATCHES_AT_ONCE such transactions per
 * process at a time.
 */
const SEND_BATCH_MAX = 64;
const SEND_BATCHES_AT_ONCE = 2;

/** Stores messages in their conversations, queues outbound delivery, reads messages. */
@Injectable()
export class MessagesService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(MessagesService.name);
  /** Requests waiting for delivery outcomes (Prefer: wait), polled together every 100 ms. */
  private readonly outcomes: MessageOutcomeWatcher;
  /** When a send batch last found the database unreachable (performance.now(), ms), and the error. */
  private databaseUnreachable?: { at: number; error: Error };
  /** Gathers concurrent sends into shared transactions (storeQueuedBatch). */
  private readonly sends = new NaturalBatcher<PendingSend, Message>((pending) => this.storeQueuedBatch(pending), {
    maxBatchSize: SEND_BATCH_MAX,
    maxConcurrentBatches: SEND_BATCHES_AT_ONCE,
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Message) private readonly messages: Repository<Message>,
    private readonly conversations: ConversationsService,
    private readonly providers: ProviderRegistry,
    private readonly deliveryQueue: DeliveryQueue,
    private readonly optOuts: OptOutsService,
    private readonly idempotency: IdempotencyService,
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
   * transaction, so an accepted message is never lost. Concurrent sends share that
   * transaction (storeQueuedBatch, gathered by a NaturalBatcher): a handful of round
   * trips per batch instead of per message. A recipient who opted out of the sender
   * (replied STOP) is checked inside that transaction, so an opt-out committed before
   * the send is seen (OptOutsService).
   * @returns the stored message
   * @throws ValidationError when an address, the content or the timestamp breaks a rule
   * @throws RecipientOptedOutError when the recipient opted out of messages from the sender
   */
  async send(input: IncomingMessage): Promise<Message> {
    return this.sends.submit({ draft: this.prepare(input, 'outbound'), submittedAt: performance.now() });
  }

  /**
   * send() for a request with a client `Idempotency-Key`, in one transaction: claim the
   * key (IdempotencyService.claim), then either replay the answer stored for it, storing
   * nothing, or store the message and its job as send() does and complete the key with
   * `answer(message)`. Message, job and key commit together or not at all, so two
   * requests with one key store one message.
   * @param answer the answer the client gets for the new message, stored for replays
   * @returns the new message, or the stored answer to replay
   * @throws ValidationError when an address, the content or the timestamp breaks a rule (nothing claimed)
   * @throws IdempotencyKeyReusedError (422) when the key was used for a different request
   * @throws IdempotencyKeyInFlightError (409) when a request with the key is still being processed
   */
  async sendIdempotent(input: IncomingMessage, request: IdempotentRequest, answer: (message: Message) => StoredAnswer): Promise<IdempotentSendResult> {
    const draft = this.prepare(input, 'outbound');
    return this.dataSource.transaction(async (manager): Promise<IdempotentSendResult> => {
      const stored = await this.idempotency.claim(manager, request);
      if (stored) return { replayed: true, answer: stored };
      const message = await this.storeOneQueued(manager, draft);
      await this.idempotency.complete(manager, request, message.id, answer(message));
      return { replayed: false, message };
    });
  }

  /**
   * Stores a batch of outbound messages `queued` with their delivery jobs, in one
   * transaction: storeQueued() for all of them. A send whose recipient opted out gets
   * its RecipientOptedOutError and the others are stored without it (the transaction is
   * run again: the conversations had counted it). When the transaction fails for
   * another reason than the database being unreachable (a deadlock, a value PostgreSQL
   * refuses), each send is stored alone, so that one bad send fails alone; when the
   * database cannot be reached, every send fails with that error, and so do the sends
   * that were already waiting when a batch found it unreachable (they would wait for a
   * timeout of their own otherwise: a send is answered within about one query timeout).
   * @returns one stored message or error per send, in order
   */
  private async storeQueuedBatch(sends: readonly PendingSend[]): Promise<(Message | Error)[]> {
    const results: (Message | Error | undefined)[] = new Array(sends.length);
    const unreachable = this.databaseUnreachable;
    let pending = sends.flatMap(({ draft, submittedAt }, index) => {
      if (unreachable && submittedAt < unreachable.at) {
        results[index] = unreachable.error;
        return [];
      }
      return [{ draft, index }];
    });
    try {
      while (pending.length > 0) {
        const batch = pending;
        const stored = await this.dataSource
          .transaction((manager) => this.storeQueued(manager, batch.map((p) => p.draft)))
          .catch((error: unknown) => {
            if (error instanceof OptedOutRecipients) return error;
            throw error;
          });
        if (stored instanceof OptedOutRecipients) {
          for (const [position, refusal] of stored.refusals) results[batch[position].index] = refusal;
          pending = batch.filter((_, position) => !stored.refusals.has(position));
        } else {
          stored.forEach((message, position) => (results[batch[position].index] = message));
          pending = [];
        }
      }
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        this.databaseUnreachable = { at: performance.now(), error: error as Error };
        throw error;
      }
      if (pending.length === 1) throw error;
      await Promise.all(
        pending.map(async ({ draft, index }) => {
          results[index] = await this.dataSource
            .transaction((manager) => this.storeOneQueued(manager, draft))
            .catch((failure: unknown) => failure as Error);
        }),
      );
    }
    return results as (Message | Error)[];
  }

  /**
   * storeQueued() for one message.
   * @throws RecipientOptedOutError when its recipient opted out of its sender
   */
  private async storeOneQueued(manager: EntityManager, draft: MessageDraft): Promise<Message> {
    try {
      return (await this.storeQueued(manager, [draft]))[0];
    } catch (error) {
      throw error instanceof OptedOutRecipients ? error.first() : error;
    }
  }

  /**
   * Stores outbound messages `queued` and enqueues their delivery, in `manager`'s
   * transaction: counts them in their conversations (which locks those rows), checks
   * the opt-outs after that (ordered against a STOP reply on the same pair;
   * OptOutsService) in the statement that inserts the messages, and inserts their jobs:
   * three statements whatever the number of messages (and one more when a recipient
   * opted out).
   * @returns the stored messages, in the order of `drafts`
   * @throws OptedOutRecipients when any recipient opted out (nothing of the batch may commit)
   */
  private async storeQueued(manager: EntityManager, drafts: readonly MessageDraft[]): Promise<Message[]> {
    const conversationIds = await this.conversations.recordMessages(
      manager,
      drafts.map((d) => ({ channel: d.channel, a: d.from, b: d.to })),
    );
    // Each message's idempotency key is made here, so that the stored rows are matched to
    // their sends by it (PostgreSQL does not promise RETURNING rows in the order of the input).
    // One statement whatever the batch's size: columns as arrays, rows made by unnest();
    // it leaves out the sends whose recipient opted out (after the locks above: OptOutsService).
    const keys = drafts.map(() => randomUUID());
    const rows: Record<string, unknown>[] = await manager.query(
      `INSERT INTO messages (conversation_id, type, direction, status, from_address, to_address, body, segments, encoding, attachments, timestamp, provider, idempotency_key)
       SELECT s.conversation_id, s.type, s.direction, s.status, s.from_address, s.to_address, s.body, s.segments, s.encoding, s.attachments, s.timestamp, s.provider, s.idempotency_key
         FROM unnest($1::bigint[], $2::varchar[], $3::varchar[], $4::varchar[], $5::text[], $6::text[], $7::text[], $8::int[], $9::varchar[], $10::jsonb[], $11::timestamptz[], $12::varchar[], $13::uuid[], $14::text[])
           AS s(conversation_id, type, direction, status, from_address, to_address, body, segments, encoding, attachments, timestamp, provider, idempotency_key, channel)
        WHERE ${this.optOuts.notOptedOutCondition('s.channel', 's.from_address', 's.to_address')}
       RETURNING *`,
      [
        conversationIds,
        drafts.map((d) => d.type),
        drafts.map((d) => d.direction),
        drafts.map((d) => d.status),
        drafts.map((d) => d.from),
        drafts.map((d) => d.to),
        drafts.map((d) => d.body),
        drafts.map((d) => d.segments),
        drafts.map((d) => d.encoding),
        drafts.map((d) => JSON.stringify(d.attachments)),
        drafts.map((d) => d.timestamp),
        drafts.map((d) => d.provider),
        keys,
        drafts.map((d) => d.channel),
      ],
    );
    if (rows.length < drafts.length) {
      // Refused sends: the transaction is rolled back and run again without them (their
      // conversations counted them above).
      const stored = new Set(rows.map((row) => row.idempotency_key as string));
      const refused = drafts.flatMap((draft, position) => (stored.has(keys[position]) ? [] : [{ draft, position }]));
      const errors = await this.optOuts.refusalsOf(manager, refused.map(({ draft }) => ({ channel: draft.channel, sender: draft.from, recipient: draft.to })));
      throw new OptedOutRecipients(new Map(refused.map(({ position }, i) => [position, errors[i]])));
    }
    const byKey = new Map(rows.map((row) => [row.idempotency_key as string, entityFromRow<Message>(this.messages.metadata, row)]));
    const messages = keys.map((key) => byKey.get(key)!);
    await this.deliveryQueue.enqueueMany(messages.map((message) => message.id), manager);
    return messages;
  }

  /**
   * Stores an inbound message from a provider webhook, once per provider message id:
   * a redelivered webhook (also concurrently) returns the stored message. An SMS/MMS
   * that is an opt-out or opt-in keyword (STOP, START, ...) is applied to the opt-outs
   * in the same transaction; a redelivery applies nothing again.
   * @returns the stored message, new or earlier
   * @throws ValidationError when an address, the content or the timestamp breaks a rule
   */
  async receive(input: InboundMessage): Promise<Message> {
    const draft = { ...this.prepare(input, 'inbound'), providerMessageId: input.providerMessageId };
    try {
      return await this.dataSource.transaction(async (manager) => {
        const message = await this.insertInbound(manager, draft);
        if (!message) throw new DuplicateInbound();
        await this.optOuts.applyReply(manager, { id: message.id, channel: draft.channel, from: message.from, to: message.to, body: message.body });
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
   * @returns one keyset page of a conversation's messages in the order of
   *   listByConversation() (timestamp, then id), after the cursor's position; answered
   *   from the index on (conversation_id, timestamp, id) at any depth; each message
   *   with the properties its API shape shows (MESSAGE_RESPONSE_PROPERTIES) only
   * @throws NotFoundError when the conversation does not exist
   */
  async listByConversationAfter(conversationId: string, request: CursorRequest): Promise<KeysetPage<MessageResponseSource>> {
    const page = await keysetPage(this.messages, { conversation_id: conversationId }, CONVERSATION_MESSAGES_ORDER, request.after, request.perPage, MESSAGE_RESPONSE_PROPERTIES);
    // Only an empty page can belong to a conversation that does not exist: one query less for every other page.
    if (page.rows.length === 0) await this.conversations.get(conversationId);
    return page;
  }

  /**
   * @returns one keyset page of the messages matching every given filter, in the order of
   *   list() (created_at, then id, both descending), after the cursor's position;
   *   answered from the index on (created_at, id), or (status, created_at, id) with a
   *   status filter; each message with the properties its API shape shows only
   */
  async listAfter(filter: MessageFilter, request: CursorRequest): Promise<KeysetPage<MessageResponseSource>> {
    const filters = { status: filter.status, conversation_id: filter.conversationId, type: filter.type, direction: filter.direction };
    return keysetPage(this.messages, filters, MESSAGES_ORDER, request.after, request.perPage, MESSAGE_RESPONSE_PROPERTIES);
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
   * Re-queues a `failed` outbound message: status `queued`, attempts 0, no error, a new
   * delivery window (accepted_at now: DELIVERY_MAX_AGE_S counts from the retry), and a
   * new delivery job enqueued in the same transaction. The idempotency key stays, so a
   * provider that took the message on an attempt we never heard back from does not send
   * it twice. Only a message the provider accepted and then reported `failed` (a delivery
   * receipt; it has a provider message id) gets a new key and loses its provider message id
   * and sent_at: the provider would take the old key for the same message and not send it
   * again. Safe against concurrent retries: one of them re-queues, the others get 409.
   * Like a send, refused when the recipient has opted out of the sender since.
   * @returns the re-queued message
   * @throws NotFoundError when there is no message `id`
   * @throws ConflictError when the message is inbound or not `failed`
   * @throws RecipientOptedOutError when the recipient opted out of messages from the sender
   */
  async retry(id: string): Promise<Message> {
    return this.dataSource.transaction(async (manager) => {
      const { affected } = await manager
        .createQueryBuilder()
        .update(Message)
        .set({
          status: 'queued',
          attempts: 0,
          probeAttempts: 0,
          error: null,
          providerMessageId: null,
          sentAt: null,
          acceptedAt: () => 'now()',
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
      const message = await manager.findOneByOrFail(Message, { id });
      await this.conversations.lock(manager, message.conversationId);
      await this.optOuts.assertMaySend(manager, channelOf(message.type), message.from, message.to);
      await this.deliveryQueue.enqueue(id, manager);
      return message;
    });
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
    const segmentation = bodySegments(input.type, input.body);
    return {
      channel,
      type: input.type,
      direction,
      status: direction === 'outbound' ? ('queued' as const) : ('received' as const),
      from,
      to,
      body: input.body,
      segments: segmentation?.segments ?? null,
      encoding: segmentation?.encoding ?? null,
      attachments,
      timestamp: timestamp as Date,
      provider: this.providers.forChannel(channel).name,
    };
  }

  /**
   * Inserts an inbound message and counts it in its conversation, once per provider
   * message id.
   * @returns the stored message, or null when its (provider, provider_message_id) is
   *   already stored (nothing inserted)
   */
  private async insertInbound(manager: EntityManager, draft: MessageDraft & { providerMessageId: string }): Promise<Message | null> {
    const { channel, ...fields } = draft;
    const conversationId = await this.conversations.recordMessage(manager, channel, fields.from, fields.to);
    const result = await manager.createQueryBuilder().insert().into(Message).values({ ...fields, conversationId }).orIgnore().returning('id').execute();
    const id = (result.raw as { id: string }[])[0]?.id;
    return id === undefined ? null : manager.findOneByOrFail(Message, { id });
  }
}
