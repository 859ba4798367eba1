import { applyDecorators, Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res, UsePipes } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ValidationError } from '../common/errors/app-error';
import { ApiClientAuth } from '../auth/api-client-auth.decorator';
import { ApiRateLimited } from '../rate-limit/api-rate-limited.decorator';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { IdParamPipe } from '../common/http/id-param.pipe';
import { LIST_HEADERS } from '../common/http/api-list-headers';
import { listRequest, setCursorHeaders, setPaginationHeaders } from '../common/http/pagination';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { ApiIdempotentSend, IDEMPOTENT_REPLAYED_HEADER_DOC } from '../idempotency/api-idempotent-send.decorator';
import { IdempotencyKey } from '../idempotency/idempotency-key.guard';
import type { IdempotentRequest } from '../idempotency/idempotent-request';
import { ListMessagesQueryDto } from './dto/list-messages.query';
import { MessageResponse, toMessageResponse } from './dto/message.response';
import { SendEmailDto } from './dto/send-email.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { SendSmsDto } from './dto/send-sms.dto';
import { hasOutcome } from './message-outcome.watcher';
import type { Message } from './message.entity';
import { type IncomingMessage, MessagesService } from './messages.service';
import { MAX_PREFER_WAIT_SECONDS, preferredWaitSeconds } from './prefer-wait';

/** @returns the sender of a /messages/send body: `from` or `from_` (both: they must agree) */
function senderOf(dto: SendMessageDto): string {
  if (dto.from !== undefined && dto.from_ !== undefined && dto.from !== dto.from_) {
    throw new ValidationError([{ field: 'from_', message: 'differs from `from`; give one of them' }]);
  }
  return (dto.from ?? dto.from_) as string;
}

/** Swagger note on the 422 of SMS/MMS sends to a recipient who opted out (opt-outs module). */
const OPT_OUT_NOTE =
  'An SMS/MMS to a recipient who replied STOP (or another opt-out keyword) to the `from` number is refused with 422 ' +
  'problem+json, code `recipient_opted_out`, and nothing is stored or queued, until they reply START, YES or UNSTOP ' +
  '(GET /api/opt-outs lists them).';

const PREFERENCE_APPLIED = {
  'Preference-Applied': { description: '`wait=N` (N capped at 30) when the request carried `Prefer: wait=N`.', schema: { type: 'string', example: 'wait=10' } },
};

/**
 * Swagger for an endpoint that queues a message and honours `Prefer: wait=N`: the header
 * parameter, 202 (queued, or still pending after the wait) and 200 (an outcome within the wait).
 * @param idempotent the endpoint takes an Idempotency-Key: its 202 may be a replay (`Idempotent-Replayed`)
 */
function ApiQueuedWithPreferWait(idempotent = false): MethodDecorator {
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
    ApiAcceptedResponse({
      type: MessageResponse,
      description:
        'Stored as queued; delivery follows (also: still queued/sending when Prefer: wait ran out).' +
        (idempotent ? ' With Idempotent-Replayed: true, the stored answer of an earlier request with the same Idempotency-Key.' : ''),
      headers: idempotent ? { ...PREFERENCE_APPLIED, ...IDEMPOTENT_REPLAYED_HEADER_DOC } : PREFERENCE_APPLIED,
    }),
    ApiOkResponse({ type: MessageResponse, description: 'Only with Prefer: wait=N: the delivery had an outcome (sent, delivered, undelivered or failed) within N seconds.', headers: PREFERENCE_APPLIED }),
  );
}

/** Client API: send messages (asynchronous: 202 with the queued message), read, list and retry them. */
@ApiTags('messages')
@ApiClientAuth()
@ApiRateLimited()
@Controller()
@UsePipes(new RequestValidationPipe(true))
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post('messages/send')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an SMS, MMS or email (original endpoint; `from` or `from_`)', description: OPT_OUT_NOTE })
  @ApiQueuedWithPreferWait(true)
  @ApiIdempotentSend()
  @ApiProblemResponses(413, 415, 503)
  async send(
    @Body() dto: SendMessageDto,
    @IdempotencyKey() idempotency: IdempotentRequest | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse> {
    const { from: _from, from_: _alias, ...rest } = dto;
    return this.sendQueued({ ...rest, from: senderOf(dto) }, idempotency, prefer, res);
  }

  @Post('api/messages/sms')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an SMS or MMS', description: OPT_OUT_NOTE })
  @ApiQueuedWithPreferWait(true)
  @ApiIdempotentSend()
  @ApiProblemResponses(413, 415, 503)
  async sendSms(
    @Body() dto: SendSmsDto,
    @IdempotencyKey() idempotency: IdempotentRequest | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse> {
    return this.sendQueued(dto, idempotency, prefer, res);
  }

  @Post('api/messages/email')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an email' })
  @ApiQueuedWithPreferWait(true)
  @ApiIdempotentSend()
  @ApiProblemResponses(413, 415, 503)
  async sendEmail(
    @Body() dto: SendEmailDto,
    @IdempotencyKey() idempotency: IdempotentRequest | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse> {
    return this.sendQueued({ ...dto, type: 'email' }, idempotency, prefer, res);
  }

  @Get('api/messages')
  @ApiOperation({
    summary: 'List messages, newest first, with filters',
    description:
      'All filters are optional and combine (AND); an unknown value is 422. `status=failed` lists the dead letters, ' +
      'which POST /api/messages/{id}/retry re-queues. Ordered by created_at, then id, both descending. ' +
      'By page (`page`, `per_page`): headers X-Total-Count and an RFC 8288 Link (first, prev, next, last). By cursor ' +
      '(`cursor=` for the first page, then the Link rel="next", which keeps the filters): as fast on any page, no ' +
      'X-Total-Count. per_page defaults to 50.',
  })
  @ApiOkResponse({ type: [MessageResponse], headers: LIST_HEADERS })
  @ApiProblemResponses(422, 503)
  async list(@Query() query: ListMessagesQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<MessageResponse[]> {
    const request = listRequest(query, 50, 'messages');
    const filter = { status: query.status, conversationId: query.conversation_id, type: query.type, direction: query.direction };
    if ('cursor' in request) {
      const { rows, next } = await this.messages.listAfter(filter, request.cursor);
      setCursorHeaders(req, res, request.cursor.perPage, next);
      return rows.map(toMessageResponse);
    }
    const [rows, total] = await this.messages.list(filter, request.page);
    setPaginationHeaders(req, res, request.page, total);
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
      'failed (delivery receipt) gets a new key. 409 when the message is not failed or is inbound; 422 recipient_opted_out when ' +
      'the recipient has opted out of the sender since. Honours Prefer: wait like the send endpoints.',
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
   * Sends a message, with its client's Idempotency-Key when it has one. A replay answers
   * the stored answer as it was (status and body, plus `Idempotent-Replayed: true`), and
   * ignores `Prefer: wait`: it stores and sends nothing, so there is nothing to wait for.
   */
  private async sendQueued(
    input: IncomingMessage,
    idempotency: IdempotentRequest | undefined,
    prefer: string | undefined,
    res: Response,
  ): Promise<MessageResponse> {
    if (!idempotency) return this.answerQueued(await this.messages.send(input), prefer, res);
    const result = await this.messages.sendIdempotent(input, idempotency, (message) => ({ status: 202, body: toMessageResponse(message) }));
    if (!result.replayed) return this.answerQueued(result.message, prefer, res);
    res.status(result.answer.status);
    res.setHeader('Idempotent-Replayed', 'true');
    return result.answer.body as MessageResponse;
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
