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
   * @returns the conversation id
   */
  async recordMessage(manager: EntityManager, channel: Channel, a: string, b: string): Promise<string> {
    const participants = [a, b].sort();
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO conversations (channel, participants, message_count, last_message_at)
       VALUES ($1, $2, 1, now())
       ON CONFLICT (channel, participants) DO UPDATE
         SET message_count = conversations.message_count + 1,
             last_message_at = GREATEST(conversations.last_message_at, now()),
             updated_at = now()
       RETURNING id`,
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
