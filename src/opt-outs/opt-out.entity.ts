import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { Channel } from '../common/channel';
import { Message } from '../messages/message.entity';

/**
 * A recipient who asked not to get messages from one of our numbers (replied STOP or
 * another opt-out keyword to it): sends from `sender` to `recipient` on `channel` are
 * refused until they opt back in, which deletes the row. One row per pair.
 */
@Entity('opt_outs')
@Unique('UQ_opt_outs_channel_sender_recipient', ['channel', 'sender', 'recipient'])
@Check('CHK_opt_outs_channel', `"channel" IN ('sms', 'email')`)
@Index('IDX_opt_outs_created_at', ['createdAt', 'id'])
export class OptOut {
  /** bigint identity; pg returns it as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  id: string;

  /** `sms` (SMS and MMS alike); email unsubscribes are not handled yet. */
  @Column({ type: 'varchar', length: 16 })
  channel: Channel;

  /** Our number the recipient opted out of (normalised, E.164): the inbound reply's `to`. */
  @Column({ type: 'text' })
  sender: string;

  /** Who opted out (normalised, E.164): the inbound reply's `from`. */
  @Column({ type: 'text' })
  recipient: string;

  /** The opt-out keyword they sent, upper case (STOP, UNSUBSCRIBE, ...). */
  @Column({ type: 'varchar', length: 16 })
  keyword: string;

  /** The inbound message that opted them out; null once that message is deleted. */
  @Column({ name: 'message_id', type: 'bigint', nullable: true })
  messageId: string | null;

  @ManyToOne(() => Message, { onDelete: 'SET NULL', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'message_id', foreignKeyConstraintName: 'FK_opt_outs_message' })
  message?: Message;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
