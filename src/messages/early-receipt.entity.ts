import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { ReceiptStatus } from './receipt-transition';

/**
 * A delivery receipt that arrived before its message was recorded `sent` (the provider
 * called back between answering our request and our write of its provider message
 * id). Held until that write applies it (DeliveryReceiptsService.recordSent), or purged
 * after EARLY_RECEIPT_RETENTION when no message ever takes its id.
 */
@Entity('early_receipts')
@Index('IDX_early_receipts_provider_message_id', ['providerMessageId'])
@Index('IDX_early_receipts_received_at', ['receivedAt'])
export class EarlyReceipt {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  id: string;

  /** The provider the receipt named; null: any provider. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  provider: string | null;

  @Column({ name: 'provider_message_id', type: 'varchar', length: 255 })
  providerMessageId: string;

  @Column({ type: 'varchar', length: 16 })
  status: ReceiptStatus;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;
}
