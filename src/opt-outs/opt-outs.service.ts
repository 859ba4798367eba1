import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { Channel } from '../common/channel';
import { keysetPage, type KeysetPage } from '../common/http/cursor';
import type { CursorRequest, PageRequest } from '../common/http/pagination';
import { type KeywordAction, keywordActionOf } from './opt-out-keywords';
import { OptOut } from './opt-out.entity';
import { RecipientOptedOutError } from './recipient-opted-out.error';

/** An inbound message as the opt-out rules read it; addresses normalised. */
export interface InboundReply {
  id: string;
  channel: Channel;
  /** Who replied: the recipient of our messages. */
  from: string;
  /** Our number they replied to. */
  to: string;
  body: string;
}

/**
 * The 422 for a send to a recipient who opted out of its sender.
 * @param optOut the stored opt-out, named in the message when known
 */
function optedOutError(send: { sender: string; recipient: string }, optOut?: { keyword: string; created_at: Date }): RecipientOptedOutError {
  const replied = optOut ? ` (replied ${optOut.keyword} at ${optOut.created_at.toISOString()})` : '';
  return new RecipientOptedOutError(
    `${send.recipient} opted out of messages from ${send.sender}${replied}; nothing was sent. They opt back in by replying START, YES or UNSTOP.`,
  );
}

/**
 * Opt-outs per (sender, recipient) pair, as Twilio honours STOP replies per sender
 * number: an inbound SMS/MMS whose body is an opt-out keyword (opt-out-keywords.ts)
 * stops messages from the number it was sent to to the number it came from; an opt-in
 * keyword lifts that again. Sends on an opted-out pair are refused.
 *
 * Ordering: the methods that take an EntityManager, and a statement that uses
 * notOptedOutCondition(), run in the caller's transaction, after the caller counted a
 * message in the pair's conversation (recordMessage(s) updates its row) or locked that
 * row (ConversationsService.lock, for a retry). The row stays
 * locked until the transaction ends, so a send and a reply on the same pair never
 * overlap: a send waits for a STOP being stored and then sees it, or commits before the
 * STOP does.
 */
@Injectable()
export class OptOutsService {
  constructor(@InjectRepository(OptOut) private readonly optOuts: Repository<OptOut>) {}

  /**
   * Refuses a send from `sender` to `recipient` (normalised addresses) when the
   * recipient opted out of that sender on `channel`: refusals() for one send.
   * @throws RecipientOptedOutError (422 recipient_opted_out)
   */
  async assertMaySend(manager: EntityManager, channel: Channel, sender: string, recipient: string): Promise<void> {
    const [refusal] = await this.refusals(manager, [{ channel, sender, recipient }]);
    if (refusal) throw refusal;
  }

  /**
   * The opt-out check as an SQL condition, for a statement of another module that
   * stores sends and must leave out the refused ones without a query of its own
   * (MessagesService inserts a batch of messages with it). The same rule as refusals(),
   * with the same ordering requirement: the statement must run after the sends'
   * conversation rows are locked. Pass the refused sends to refusalsOf() for their errors.
   * @param channel SQL expression of the send's channel (`sms` or `email`)
   * @param sender SQL expression of its normalised sender address
   * @param recipient SQL expression of its normalised recipient address
   * @returns a condition that is true when the recipient has not opted out of the sender
   */
  notOptedOutCondition(channel: string, sender: string, recipient: string): string {
    return `NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.channel = ${channel} AND o.sender = ${sender} AND o.recipient = ${recipient})`;
  }

  /**
   * The errors of sends a statement left out with notOptedOutCondition(): refusals()
   * for each; a send whose opt-out was lifted (START) between that statement and this
   * query still gets its 422, without the opt-out's keyword and time.
   * @returns a RecipientOptedOutError for each send, in order
   */
  async refusalsOf(manager: EntityManager, sends: readonly { channel: Channel; sender: string; recipient: string }[]): Promise<RecipientOptedOutError[]> {
    const refusals = await this.refusals(manager, sends);
    return refusals.map((refusal, i) => refusal ?? optedOutError(sends[i]));
  }

  /**
   * Checks sends against the opt-outs in one query. Call it inside the sends'
   * transaction, after their conversation rows are locked (see the class comment).
   * @param sends normalised addresses of each send
   * @returns for each send, in the order given, the RecipientOptedOutError (422
   *   recipient_opted_out) to answer when its recipient opted out of its sender, else null
   */
  async refusals(manager: EntityManager, sends: readonly { channel: Channel; sender: string; recipient: string }[]): Promise<(RecipientOptedOutError | null)[]> {
    const rows: { channel: string; sender: string; recipient: string; keyword: string; created_at: Date }[] = await manager.query(
      `SELECT o.channel, o.sender, o.recipient, o.keyword, o.created_at
         FROM opt_outs o
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS s(channel, sender, recipient)
           ON o.channel = s.channel AND o.sender = s.sender AND o.recipient = s.recipient`,
      [sends.map((s) => s.channel), sends.map((s) => s.sender), sends.map((s) => s.recipient)],
    );
    const keyOf = (s: { channel: string; sender: string; recipient: string }) => JSON.stringify([s.channel, s.sender, s.recipient]);
    const optOuts = new Map(rows.map((row) => [keyOf(row), row]));
    return sends.map((send) => {
      const optOut = optOuts.get(keyOf(send));
      return optOut ? optedOutError(send, optOut) : null;
    });
  }

  /**
   * Applies an inbound SMS/MMS that is an opt-out or opt-in keyword, in the caller's
   * transaction (the one that stored the message): an opt-out records the pair (a
   * repeated one keeps the first record), an opt-in deletes it. Other bodies, and
   * email, change nothing.
   * @returns what the body asked for, or null when it is no keyword
   */
  async applyReply(manager: EntityManager, reply: InboundReply): Promise<KeywordAction | null> {
    if (reply.channel !== 'sms') return null;
    const action = keywordActionOf(reply.body);
    if (!action) return null;
    const pair = { channel: reply.channel, sender: reply.to, recipient: reply.from };
    if (action.action === 'opt_out') {
      await manager
        .createQueryBuilder()
        .insert()
        .into(OptOut)
        .values({ ...pair, keyword: action.keyword, messageId: reply.id })
        .orIgnore()
        .execute();
    } else {
      await manager.delete(OptOut, pair);
    }
    return action;
  }

  /** @returns one keyset page of opt-outs in the order of list(), after the cursor's position (index on (created_at, id)) */
  async listAfter(request: CursorRequest): Promise<KeysetPage<OptOut>> {
    return keysetPage(this.optOuts, {}, { list: 'opt-outs', timeColumn: 'created_at', direction: 'DESC' }, request.after, request.perPage);
  }

  /** @returns one page of opt-outs, newest first (created_at, then id, descending), and the total */
  async list(page: PageRequest): Promise<[OptOut[], number]> {
    return this.optOuts.findAndCount({ order: { createdAt: 'DESC', id: 'DESC' }, skip: page.offset, take: page.perPage });
  }
}
