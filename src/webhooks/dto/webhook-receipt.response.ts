import { ApiProperty } from '@nestjs/swagger';
import { MessageResponse } from '../../messages/dto/message.response';

/** Answer to a provider's webhook call. */
export class WebhookReceiptResponse {
  @ApiProperty({ example: true }) received: true;
  /** The stored message; null only for a delivery receipt held until its message is recorded `sent` (202). */
  @ApiProperty({ type: MessageResponse, nullable: true }) message: MessageResponse | null;
}
