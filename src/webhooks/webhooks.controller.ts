import { Body, Controller, HttpCode, Post, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { toMessageResponse } from '../messages/dto/message.response';
import { MessagesService } from '../messages/messages.service';
import { InboundEmailDto } from './dto/inbound-email.dto';
import { InboundSmsDto } from './dto/inbound-sms.dto';
import { StatusCallbackDto } from './dto/status-callback.dto';
import { WebhookReceiptResponse } from './dto/webhook-receipt.response';

/**
 * Inbound messages and delivery receipts, called by providers. Unknown fields are
 * ignored (providers add fields over time); a redelivered webhook answers 200 with the
 * stored message.
 */
@ApiTags('webhooks')
@Controller('api/webhooks')
@UsePipes(new RequestValidationPipe(false))
export class WebhooksController {
  constructor(private readonly messages: MessagesService) {}

  @Post('sms')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inbound SMS or MMS from the SMS provider' })
  @ApiOkResponse({ type: WebhookReceiptResponse })
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async sms(@Body() dto: InboundSmsDto): Promise<WebhookReceiptResponse> {
    const { messaging_provider_id: providerMessageId, ...message } = dto;
    return { received: true, message: toMessageResponse(await this.messages.receive({ ...message, providerMessageId })) };
  }

  @Post('email')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inbound email from the email provider' })
  @ApiOkResponse({ type: WebhookReceiptResponse })
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async email(@Body() dto: InboundEmailDto): Promise<WebhookReceiptResponse> {
    const { xillio_id: providerMessageId, ...message } = dto;
    return { received: true, message: toMessageResponse(await this.messages.receive({ ...message, type: 'email', providerMessageId })) };
  }

  @Post('status')
  @HttpCode(200)
  @ApiOperation({
    summary: "A provider's delivery receipt (status callback) for an outbound message",
    description:
      'Moves the outbound message with this provider_message_id from sent (or still queued/sending: the receipt ' +
      'overtook our own bookkeeping) to delivered, undelivered or failed; undelivered and failed record the error. ' +
      'A message already delivered, undelivered or failed never moves again: a repeated, late or conflicting ' +
      'receipt answers 200 with the message unchanged. 404 when no outbound message has the id; 409 when, without ' +
      '`provider`, the id names messages of several providers.',
  })
  @ApiOkResponse({ type: WebhookReceiptResponse })
  @ApiProblemResponses(400, 404, 409, 413, 415, 422, 503)
  async status(@Body() dto: StatusCallbackDto): Promise<WebhookReceiptResponse> {
    const message = await this.messages.applyReceipt({
      providerMessageId: dto.provider_message_id,
      status: dto.status,
      errorCode: dto.error_code,
      errorMessage: dto.error_message,
      provider: dto.provider,
    });
    return { received: true, message: toMessageResponse(message) };
  }
}
