import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { Channel } from '../common/channel';
import { NotFoundError } from '../common/errors/app-error';
import type { PageRequest } from '../common/http/pagination';
import { appConfig } from '../config/app.config';
import { Conversation } from './conversation.entity';
import { normalizeAddress } from './participants';

/** Groups messages into conversations and reads them. */
@Injectable()
export class ConversationsService {
  constructor(
    @InjectRepository(Conversation) private readonly conversations: Repository<Conversation>,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  /**
   * Normalises a participant address for `channel` (E.164 in DEFAULT_REGION, or a bare
   * lower-cased email address).
   * @returns the normalised address, or null when it does not fit the channel
   */
  normalizeParticipant(channel: Channel, raw: string): string | null {
    return normalizeAddress(channel, raw, this.config.defaultRegion);
  }

  /**
   * Finds or creates the conversation of two normalised addresses and counts one more
   * message in it, in the caller's transaction. Race-free: concurrent first messages
   * meet on the unique (channel, participants) key through INSERT ... ON CONFLICT.
   * An existing conversation is updated first, so that only a new conversation draws
   * an id from the identity sequence (an INSERT ... ON CONFLICT that ends in the
   * UPDATE branch would use one up, leaving a gap per message).
   * @returns the conversation id
   */
  async recordMessage(manager: EntityManager, channel: Channel, a: string, b: string): Promise<string> {
    const participants = [a, b].sort();
    const rows: { id: string }[] = await manager.query(
      `WITH existing AS (
         UPDATE conversations
            SET message_count = message_count + 1,
                last_message_at = GREATEST(last_message_at, now()),
                updated_at = now()
          WHERE channel = $1 AND participants = $2::text[]
         RETURNING id
       ), created AS (
         INSERT INTO conversations (channel, participants, message_count, last_message_at)
         SELECT $1, $2::text[], 1, now()
          WHERE NOT EXISTS (SELECT 1 FROM existing)
         ON CONFLICT (channel, participants) DO UPDATE
           SET message_count = conversations.message_count + 1,
               last_message_at = GREATEST(conversations.last_message_at, now()),
               updated_at = now()
         RETURNING id
       )
       SELECT id FROM existing UNION ALL SELECT id FROM created`,
      [channel, participants],
    );
    return rows[0].id;
  }

  /**
   * @returns one page of conversations, latest stored message first (ties by id), and the total
   */
  async list(page: PageRequest): Promise<[Conversation[], number]> {
    return this.conversations.findAndCount({
      order: { lastMessageAt: 'DESC', id: 'DESC' },
      skip: page.offset,
      take: page.perPage,
    });
  }

  /** @throws NotFoundError when there is no conversation `id` */
  async get(id: string): Promise<Conversation> {
    const conversation = await this.conversations.findOneBy({ id });
    if (!conversation) throw new NotFoundError(`Conversation ${id} does not exist`);
    return conversation;
  }
}
