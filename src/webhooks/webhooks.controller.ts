import { Body, Controller, HttpCode, Post, Res, UseGuards, UsePipes } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { toMessageResponse } from '../messages/dto/message.response';
import { DeliveryReceiptsService } from '../messages/delivery-receipts.service';
import { MessagesService } from '../messages/messages.service';
import { ApiWebhookSignature } from './api-webhook-signature.decorator';
import { InboundEmailDto } from './dto/inbound-email.dto';
import { InboundSmsDto } from './dto/inbound-sms.dto';
import { StatusCallbackDto } from './dto/status-callback.dto';
import { WebhookReceiptResponse } from './dto/webhook-receipt.response';
import { WebhookChannels } from './webhook-channels.decorator';
import { WebhookSignatureGuard } from './webhook-signature.guard';

/**
 * Inbound messages and delivery receipts, called by providers. Each request's signature
 * is checked first, over the raw body, by the verifier of the provider of the endpoint's
 * channel (WebhookSignatureGuard). Unknown fields are ignored (providers add fields over
 * time); a redelivered webhook answers 200 with the stored message. Providers call them,
 * not clients: no API key and no client rate limit apply (@Public).
 */
@ApiTags('webhooks')
@Public()
@Controller('api/webhooks')
@UseGuards(WebhookSignatureGuard)
@ApiWebhookSignature()
@UsePipes(new RequestValidationPipe(false))
export class WebhooksController {
  constructor(
    private readonly messages: MessagesService,
    private readonly receipts: DeliveryReceiptsService,
  ) {}

  @Post('sms')
  @WebhookChannels('sms')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inbound SMS or MMS from the SMS provider' })
  @ApiOkResponse({ type: WebhookReceiptResponse })
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async sms(@Body() dto: InboundSmsDto): Promise<WebhookReceiptResponse> {
    const { messaging_provider_id: providerMessageId, ...message } = dto;
    return { received: true, message: toMessageResponse(await this.messages.receive({ ...message, providerMessageId })) };
  }

  @Post('email')
  @WebhookChannels('email')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inbound email from the email provider' })
  @ApiOkResponse({ type: WebhookReceiptResponse })
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async email(@Body() dto: InboundEmailDto): Promise<WebhookReceiptResponse> {
    const { xillio_id: providerMessageId, ...message } = dto;
    return { received: true, message: toMessageResponse(await this.messages.receive({ ...message, type: 'email', providerMessageId })) };
  }

  @Post('status')
  @WebhookChannels('sms', 'email')
  @HttpCode(200)
  @ApiOperation({
    summary: "A provider's delivery receipt (status callback) for an outbound message",
    description:
      'Moves the outbound message with this provider_message_id from sent (or still queued/sending: the receipt ' +
      'overtook our own bookkeeping) to delivered, undelivered or failed; undelivered and failed record the error. ' +
      'A message already delivered, undelivered or failed never moves again: a repeated, late or conflicting ' +
      'receipt answers 200 with the message unchanged. A receipt that arrives before the service has recorded the ' +
      'message `sent` (so no message has its id yet) is held while the provider has pending messages and applied ' +
      'when that happens: 202 with `message: null`. 404 when no outbound message has the id and none of the ' +
      "provider's is pending; 409 when, without `provider`, the id names messages of several providers.",
  })
  @ApiOkResponse({ type: WebhookReceiptResponse })
  @ApiAcceptedResponse({ type: WebhookReceiptResponse, description: 'Held until the message it names is recorded `sent`; `message` is null' })
  @ApiProblemResponses(400, 404, 409, 413, 415, 422, 503)
  async status(@Body() dto: StatusCallbackDto, @Res({ passthrough: true }) res: Response): Promise<WebhookReceiptResponse> {
    const message = await this.receipts.apply({
      providerMessageId: dto.provider_message_id,
      status: dto.status,
      errorCode: dto.error_code,
      errorMessage: dto.error_message,
      provider: dto.provider,
    });
    if (!message) {
      res.status(202);
      return { received: true, message: null };
    }
    return { received: true, message: toMessageResponse(message) };
  }
}
