import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { channelOf, type MessageType } from '../common/channel';
import { FieldError, NotFoundError, ValidationError } from '../common/errors/app-error';
import type { PageRequest } from '../common/http/pagination';
import { ConversationsService } from '../conversations/conversations.service';
import { ProviderRegistry } from '../providers/provider.registry';
import { DeliveryQueue } from './delivery/delivery.queue';
import { contentErrors, resolveTimestamp } from './message-rules';
import { Message, MessageDirection } from './message.entity';

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

/** Thrown inside the inbound transaction when the provider message id is already stored. */
class DuplicateInbound extends Error {}

/** Stores messages in their conversations, queues outbound delivery, reads messages. */
@Injectable()
export class MessagesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Message) private readonly messages: Repository<Message>,
    private readonly conversations: ConversationsService,
    private readonly providers: ProviderRegistry,
    private readonly deliveryQueue: DeliveryQueue,
  ) {}

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
