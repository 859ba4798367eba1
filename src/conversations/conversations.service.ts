import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { Channel } from '../common/channel';
import { NotFoundError } from '../common/errors/app-error';
import { type KeysetOrder, keysetPage, type KeysetPage } from '../common/http/cursor';
import type { CursorRequest, PageRequest } from '../common/http/pagination';
import { appConfig } from '../config/app.config';
import { Conversation } from './conversation.entity';
import { normalizeAddress } from './participants';

/** Keyset order of the conversation list: latest stored message first, ties by id (index IDX_conversations_last_message_at). */
export const CONVERSATIONS_ORDER: KeysetOrder = { list: 'conversations', timeColumn: 'last_message_at', direction: 'DESC' };

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
   * message in it, in the caller's transaction: recordMessages() for one message.
   * @returns the conversation id
   */
  async recordMessage(manager: EntityManager, channel: Channel, a: string, b: string): Promise<string> {
    return (await this.recordMessages(manager, [{ channel, a, b }]))[0];
  }

  /**
   * Finds or creates the conversation of each message's two normalised addresses and
   * counts the messages in them, in the caller's transaction and one statement. Each
   * conversation's row stays locked (FOR NO KEY UPDATE, as an UPDATE locks it) until the
   * transaction ends; existing rows are locked in id order, so that two batches sharing
   * conversations cannot deadlock. Race-free for new conversations: concurrent first
   * messages meet on the unique (channel, participants) key through INSERT ... ON
   * CONFLICT. Existing conversations are updated first, so that only a new conversation
   * draws an id from the identity sequence (an INSERT ... ON CONFLICT that ends in the
   * UPDATE branch would use one up, leaving a gap per message).
   * @param messages the channel and both addresses of each message (several may share a conversation)
   * @returns the conversation id of each message, in the order given
   */
  async recordMessages(manager: EntityManager, messages: readonly { channel: Channel; a: string; b: string }[]): Promise<string[]> {
    const keyOf = (channel: string, participants: readonly string[]) => JSON.stringify([channel, ...participants]);
    const counts = new Map<string, { channel: Channel; participants: string[]; n: number }>();
    const keys = messages.map(({ channel, a, b }) => {
      const participants = [a, b].sort();
      const key = keyOf(channel, participants);
      const entry = counts.get(key) ?? { channel, participants, n: 0 };
      entry.n += 1;
      counts.set(key, entry);
      return key;
    });
    const entries = [...counts.values()];
    const rows: { id: string; channel: string; participants: string[] }[] = await manager.query(
      `WITH input AS (
         SELECT i.channel, ARRAY[i.first, i.second] AS participants, i.n
           FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS i(channel, first, second, n)
       ), locked AS (
         SELECT c.id, i.channel, i.participants, i.n
           FROM conversations c JOIN input i ON c.channel = i.channel AND c.participants = i.participants
          ORDER BY c.id
            FOR NO KEY UPDATE OF c
       ), existing AS (
         UPDATE conversations c
            SET message_count = c.message_count + l.n,
                last_message_at = GREATEST(c.last_message_at, now()),
                updated_at = now()
           FROM locked l
          WHERE c.id = l.id
         RETURNING c.id, c.channel, c.participants
       ), created AS (
         INSERT INTO conversations (channel, participants, message_count, last_message_at)
         SELECT i.channel, i.participants, i.n, now()
           FROM input i
          WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.channel = i.channel AND l.participants = i.participants)
          ORDER BY i.channel, i.participants
         ON CONFLICT (channel, participants) DO UPDATE
           SET message_count = conversations.message_count + EXCLUDED.message_count,
               last_message_at = GREATEST(conversations.last_message_at, now()),
               updated_at = now()
         RETURNING id, channel, participants
       )
       SELECT id, channel, participants FROM existing UNION ALL SELECT id, channel, participants FROM created`,
      [entries.map((e) => e.channel), entries.map((e) => e.participants[0]), entries.map((e) => e.participants[1]), entries.map((e) => e.n)],
    );
    const ids = new Map(rows.map((row) => [keyOf(row.channel, row.participants), row.id]));
    return keys.map((key) => {
      const id = ids.get(key);
      if (id === undefined) throw new Error('a conversation was neither found nor created');
      return id;
    });
  }

  /**
   * Locks conversation `id`'s row against the message counting of recordMessage
   * (SELECT ... FOR SHARE) until the caller's transaction ends: a message being stored
   * in it meanwhile is waited for, one stored afterwards waits. No-op for an unknown id.
   */
  async lock(manager: EntityManager, id: string): Promise<void> {
    await manager.query('SELECT 1 FROM conversations WHERE id = $1 FOR SHARE', [id]);
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

  /**
   * @returns one keyset page of conversations in the order of list() (latest stored
   *   message first, ties by id), after the cursor's position; answered from the index
   *   on (last_message_at DESC, id DESC) at any depth
   */
  async listAfter(request: CursorRequest): Promise<KeysetPage<Conversation>> {
    return keysetPage(this.conversations, {}, CONVERSATIONS_ORDER, request.after, request.perPage);
  }

  /** @throws NotFoundError when there is no conversation `id` */
  async get(id: string): Promise<Conversation> {
    const conversation = await this.conversations.findOneBy({ id });
    if (!conversation) throw new NotFoundError(`Conversation ${id} does not exist`);
    return conversation;
  }
}
