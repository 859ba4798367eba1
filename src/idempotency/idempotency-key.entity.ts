import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Message } from '../messages/message.entity';

/**
 * A client's `Idempotency-Key` that created a message, with the answer to replay.
 *
 * A row exists only for a completed request: it is written in the transaction that
 * stores the message and its delivery job, so there is never a key without its message
 * or a message of a keyed request without its key. (A request still in flight is marked
 * by a transaction-level advisory lock, not by a row: see IdempotencyService.)
 */
@Entity('idempotency_keys')
@Index('IDX_idempotency_keys_expires_at', ['expiresAt'])
@Index('IDX_idempotency_keys_message_id', ['messageId'])
export class IdempotencyKey {
  /** Whose key it is: callerKeyId() of the request (per API key). */
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_idempotency_keys' })
  scope: string;

  /** The key as the client sent it (1..255 printable ASCII characters). */
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'PK_idempotency_keys' })
  key: string;

  /** requestFingerprint() of the request: SHA-256 hex of method, endpoint and canonical body. */
  @Column({ type: 'char', length: 64 })
  fingerprint: string;

  /** Status of the answer to replay (202). */
  @Column({ name: 'response_status', type: 'smallint' })
  responseStatus: number;

  /**
   * Body of the answer to replay. `json`, not `jsonb`: json keeps the text as written,
   * so the replay serialises to the same bytes (jsonb reorders object keys).
   */
  @Column({ name: 'response_body', type: 'json' })
  responseBody: unknown;

  /** The message the request created. */
  @Column({ name: 'message_id', type: 'bigint' })
  messageId: string;

  @ManyToOne(() => Message, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'message_id', foreignKeyConstraintName: 'FK_idempotency_keys_message' })
  message?: Message;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** From then on the key is unknown again (purged, or replaced by a new request). */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
