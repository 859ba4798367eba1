import { ApiProperty } from '@nestjs/swagger';
import { MessageResponse } from '../../messages/dto/message.response';

/** Answer to a provider's webhook call. */
export class WebhookReceiptResponse {
  @ApiProperty({ example: true }) received: true;
  @ApiProperty({ type: MessageResponse }) message: MessageResponse;
}
