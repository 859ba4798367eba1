import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsPlainText, IsZonedTimestamp } from '../../common/validation/decorators';
import { RECEIPT_STATUSES, type ReceiptStatus } from '../../messages/receipt-transition';

/**
 * Body of POST /api/webhooks/status: a provider's delivery receipt for a message it
 * accepted. Unknown fields are ignored; optional fields may be absent or null.
 */
export class StatusCallbackDto {
  @ApiProperty({ description: "The provider's id of the message, as it answered our send request.", example: 'mock-6f0c0d1e-1b1a-4c1e-9a53-2f0e4b8c1d22' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  @IsPlainText()
  provider_message_id: string;

  @ApiProperty({ enum: RECEIPT_STATUSES, example: 'delivered' })
  @IsIn(RECEIPT_STATUSES, { message: `must be one of ${RECEIPT_STATUSES.join(', ')}` })
  status: ReceiptStatus;

  @ApiPropertyOptional({ type: String, nullable: true, description: "The provider's error code (undelivered, failed).", example: '30003' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @IsPlainText()
  error_code?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: "The provider's description of the error.", example: 'Unreachable destination handset' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @IsPlainText()
  error_message?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'When the provider saw the status: ISO 8601 with a zone. Validated, not stored.',
    example: '2025-05-21T18:00:05Z',
    format: 'date-time',
  })
  @IsOptional()
  @IsZonedTimestamp()
  timestamp?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Name of the provider (`mock-sms`, `mock-email`, ...). Absent: the outbound message with this provider_message_id, whatever its provider.',
    example: 'mock-sms',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  @IsPlainText()
  provider?: string | null;
}
