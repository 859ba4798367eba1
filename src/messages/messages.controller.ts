import { applyDecorators, Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res, UsePipes } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ValidationError } from '../common/errors/app-error';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { IdParamPipe } from '../common/http/id-param.pipe';
import { pageRequest, setPaginationHeaders } from '../common/http/pagination';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { ListMessagesQueryDto } from './dto/list-messages.query';
import { MessageResponse, toMessageResponse } from './dto/message.response';
import { SendEmailDto } from './dto/send-email.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { SendSmsDto } from './dto/send-sms.dto';
import { hasOutcome } from './message-outcome.watcher';
import type { Message } from './message.entity';
import { MessagesService } from './messages.service';
import { MAX_PREFER_WAIT_SECONDS, preferredWaitSeconds } from './prefer-wait';

/** @returns the sender of a /messages/send body: `from` or `from_` (both: they must agree) */
function senderOf(dto: SendMessageDto): string {
  if (dto.from !== undefined && dto.from_ !== undefined && dto.from !== dto.from_) {
    throw new ValidationError([{ field: 'from_', message: 'differs from `from`; give one of them' }]);
  }
  return (dto.from ?? dto.from_) as string;
}

const PREFERENCE_APPLIED = {
  'Preference-Applied': { description: '`wait=N` (N capped at 30) when the request carried `Prefer: wait=N`.', schema: { type: 'string', example: 'wait=10' } },
};

/**
 * Swagger for an endpoint that queues a message and honours `Prefer: wait=N`: the header
 * parameter, 202 (queued, or still pending after the wait) and 200 (an outcome within the wait).
 */
function ApiQueuedWithPreferWait(): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'Prefer',
      required: false,
      description:
        `RFC 7240. \`wait=N\`: answer once the message is sent, delivered, undelivered or failed (200), or after N seconds ` +
        `with the usual 202 and the message as it then is (queued or sending). N is capped at ${MAX_PREFER_WAIT_SECONDS}; ` +
        'without the header, or with wait=0 or a malformed value, the answer is 202 at once.',
      schema: { type: 'string', example: 'wait=10' },
    }),
    ApiAcceptedResponse({ type: MessageResponse, description: 'Stored as queued; delivery follows (also: still queued/sending when Prefer: wait ran out).', headers: PREFERENCE_APPLIED }),
    ApiOkResponse({ type: MessageResponse, description: 'Only with Prefer: wait=N: the delivery had an outcome (sent, delivered, undelivered or failed) within N seconds.', headers: PREFERENCE_APPLIED }),
  );
}

/** Client API: send messages (asynchronous: 202 with the queued message), read, list and retry them. */
@ApiTags('messages')
@Controller()
@UsePipes(new RequestValidationPipe(true))
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post('messages/send')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an SMS, MMS or email (original endpoint; `from` or `from_`)' })
  @ApiQueuedWithPreferWait()
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async send(
    @Body() dto: SendMessageDto,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse> {
    const { from: _from, from_: _alias, ...rest } = dto;
    return this.answerQueued(await this.messages.send({ ...rest, from: senderOf(dto) }), prefer, res);
  }

  @Post('api/messages/sms')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an SMS or MMS' })
  @ApiQueuedWithPreferWait()
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async sendSms(
    @Body() dto: SendSmsDto,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse> {
    return this.answerQueued(await this.messages.send(dto), prefer, res);
  }

  @Post('api/messages/email')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an email' })
  @ApiQueuedWithPreferWait()
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async sendEmail(
    @Body() dto: SendEmailDto,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse> {
    return this.answerQueued(await this.messages.send({ ...dto, type: 'email' }), prefer, res);
  }

  @Get('api/messages')
  @ApiOperation({
    summary: 'List messages, newest first, with filters',
    description:
      'All filters are optional and combine (AND); an unknown value is 422. `status=failed` lists the dead letters, ' +
      'which POST /api/messages/{id}/retry re-queues. Ordered by created_at, then id, both descending. ' +
      'Headers: X-Total-Count and an RFC 8288 Link (first, prev, next, last). per_page defaults to 50.',
  })
  @ApiOkResponse({
    type: [MessageResponse],
    headers: {
      'X-Total-Count': { description: 'Messages matching the filters', schema: { type: 'integer' } },
      Link: { description: 'RFC 8288 links: first, prev, next, last', schema: { type: 'string' } },
    },
  })
  @ApiProblemResponses(422, 503)
  async list(@Query() query: ListMessagesQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<MessageResponse[]> {
    const page = pageRequest(query, 50);
    const filter = { status: query.status, conversationId: query.conversation_id, type: query.type, direction: query.direction };
    const [rows, total] = await this.messages.list(filter, page);
    setPaginationHeaders(req, res, page, total);
    return rows.map(toMessageResponse);
  }

  @Get('api/messages/:id')
  @ApiOperation({ summary: 'Get one message with its delivery status' })
  @ApiOkResponse({ type: MessageResponse })
  @ApiProblemResponses(404, 422)
  async get(@Param('id', IdParamPipe) id: string): Promise<MessageResponse> {
    return toMessageResponse(await this.messages.get(id));
  }

  @Post('api/messages/:id/retry')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Re-queue a failed outbound message',
    description:
      'Status back to queued, attempts 0, error cleared, and a new delivery job. The message keeps its idempotency key, ' +
      'so a provider that already took it does not send it twice; only a message the provider accepted and then reported ' +
      'failed (delivery receipt) gets a new key. 409 when the message is not failed or is inbound. Honours Prefer: wait like the send endpoints.',
  })
  @ApiQueuedWithPreferWait()
  @ApiProblemResponses(404, 409, 422, 503)
  async retry(
    @Param('id', IdParamPipe) id: string,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse> {
    return this.answerQueued(await this.messages.retry(id), prefer, res);
  }

  /**
   * Answers for a just-queued message: at once (202), or with `Prefer: wait=N` once its
   * delivery has an outcome (200) or N seconds have passed (202, the message as it then is).
   */
  private async answerQueued(message: Message, prefer: string | undefined, res: Response): Promise<MessageResponse> {
    const wait = preferredWaitSeconds(prefer);
    if (wait === null) return toMessageResponse(message);
    res.setHeader('Preference-Applied', `wait=${wait}`);
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    try {
      const current = await this.messages.waitForOutcome(message, wait * 1000, gone.signal);
      if (hasOutcome(current)) res.status(200);
      return toMessageResponse(current);
    } finally {
      res.off('close', onClose);
    }
  }
}
