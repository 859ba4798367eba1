import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Generated,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import type { MessageType } from '../common/channel';
import { Conversation } from '../conversations/conversation.entity';
import type { SmsEncoding } from './sms-segments';

export const MESSAGE_DIRECTIONS = ['outbound', 'inbound'] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

/**
 * Delivery status. Outbound: queued -> sending -> sent -> (delivered | undelivered),
 * or -> failed. Inbound: received.
 */
export const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'received'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Why a message failed or was last deferred. */
export interface MessageError {
  code: string;
  message: string;
}

/** One SMS, MMS or email, outbound or inbound, in one conversation. */
@Entity('messages')
@Unique('UQ_messages_provider_message_id', ['provider', 'providerMessageId'])
@Unique('UQ_messages_idempotency_key', ['idempotencyKey'])
@Check('CHK_messages_type', `"type" IN ('sms', 'mms', 'email')`)
@Check('CHK_messages_direction', `"direction" IN ('outbound', 'inbound')`)
@Check('CHK_messages_status', `"status" IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'received')`)
@Check(
  'CHK_messages_segments',
  `("segments" IS NULL AND "encoding" IS NULL) OR ("type" IN ('sms', 'mms') AND "segments" IS NOT NULL AND "encoding" IS NOT NULL AND "segments" >= 1 AND "encoding" IN ('GSM-7', 'UCS-2'))`,
)
@Index('IDX_messages_conversation_timestamp', ['conversationId', 'timestamp', 'id'])
@Index('IDX_messages_status', ['status'], { where: `"status" IN ('queued', 'sending')` })
@Index('IDX_messages_created_at', ['createdAt', 'id'])
@Index('IDX_messages_status_created_at', ['status', 'createdAt', 'id'])
@Index('IDX_messages_provider_message_id', ['providerMessageId'], { where: `"provider_message_id" IS NOT NULL` })
export class Message {
  /** bigint identity; pg returns it as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  id: string;

  @Column({ name: 'conversation_id', type: 'bigint' })
  conversationId: string;

  @ManyToOne(() => Conversation, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'conversation_id', foreignKeyConstraintName: 'FK_messages_conversation' })
  conversation?: Conversation;

  @Column({ type: 'varchar', length: 8 })
  type: MessageType;

  @Column({ type: 'varchar', length: 8 })
  direction: MessageDirection;

  @Column({ type: 'varchar', length: 16 })
  status: MessageStatus;

  /** Normalised sender address (E.164 or lower-cased email). */
  @Column({ name: 'from_address', type: 'text' })
  from: string;

  /** Normalised recipient address. */
  @Column({ name: 'to_address', type: 'text' })
  to: string;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'jsonb', default: [] })
  attachments: string[];

  /**
   * SMS segments the body takes (>= 1), set when the message is stored: for mms, what its
   * text would take as SMS (bodySegments() in message-rules.ts); null for email.
   */
  @Column({ type: 'integer', nullable: true })
  segments: number | null;

  /** The SMS encoding of the body that `segments` counts in; null for email. */
  @Column({ type: 'varchar', length: 8, nullable: true })
  encoding: SmsEncoding | null;

  /** The sender's time. */
  @Column({ type: 'timestamptz' })
  timestamp: Date;

  /** Name of the provider that carries (or carried in) the message, e.g. `mock-sms`. */
  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ name: 'provider_message_id', type: 'varchar', length: 255, nullable: true })
  providerMessageId: string | null;

  /** Sent with every provider request so that a retried request cannot send twice. */
  @Column({ name: 'idempotency_key', type: 'uuid' })
  @Generated('uuid')
  idempotencyKey: string;

  /** Provider requests made so far (inline retries count). */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /**
   * Of `attempts`, the requests made as a circuit breaker's test call that found the
   * provider still down: they do not count towards DELIVERY_MAX_ATTEMPTS.
   */
  @Column({ name: 'probe_attempts', type: 'integer', default: 0 })
  probeAttempts: number;

  @Column({ type: 'jsonb', nullable: true })
  error: MessageError | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When the message was last accepted for delivery (its send, or a retry): DELIVERY_MAX_AGE_S counts from here. */
  @Column({ name: 'accepted_at', type: 'timestamptz', default: () => 'now()' })
  acceptedAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;
}
