import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { Channel } from '../common/channel';

/**
 * Messages between two participants on one channel. Keyed by (channel, participants)
 * with the two normalised addresses sorted, so A->B and B->A share it.
 */
@Entity('conversations')
@Unique('UQ_conversations_channel_participants', ['channel', 'participants'])
@Check('CHK_conversations_channel', `"channel" IN ('sms', 'email')`)
@Check('CHK_conversations_participants', `cardinality("participants") = 2`)
@Index('IDX_conversations_last_message_at', { synchronize: false }) // (last_message_at DESC, id DESC), see the migration
export class Conversation {
  /** bigint identity; pg returns it as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  channel: Channel;

  @Column({ type: 'text', array: true })
  participants: string[];

  @Column({ name: 'message_count', type: 'integer', default: 0 })
  messageCount: number;

  /** When the service stored the latest message (not the sender's timestamp). */
  @Column({ name: 'last_message_at', type: 'timestamptz', default: () => 'now()' })
  lastMessageAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
