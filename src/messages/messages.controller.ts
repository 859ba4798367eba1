import { Body, Controller, Get, HttpCode, Param, Post, UsePipes } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ValidationError } from '../common/errors/app-error';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { IdParamPipe } from '../common/http/id-param.pipe';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { MessageResponse, toMessageResponse } from './dto/message.response';
import { SendEmailDto } from './dto/send-email.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { SendSmsDto } from './dto/send-sms.dto';
import { MessagesService } from './messages.service';

/** @returns the sender of a /messages/send body: `from` or `from_` (both: they must agree) */
function senderOf(dto: SendMessageDto): string {
  if (dto.from !== undefined && dto.from_ !== undefined && dto.from !== dto.from_) {
    throw new ValidationError([{ field: 'from_', message: 'differs from `from`; give one of them' }]);
  }
  return (dto.from ?? dto.from_) as string;
}

/** Client API: send messages (asynchronous: 202 with the queued message) and read them. */
@ApiTags('messages')
@Controller()
@UsePipes(new RequestValidationPipe(true))
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post('messages/send')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an SMS, MMS or email (original endpoint; `from` or `from_`)' })
  @ApiAcceptedResponse({ type: MessageResponse, description: 'Stored as queued; delivery follows.' })
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async send(@Body() dto: SendMessageDto): Promise<MessageResponse> {
    const { from: _from, from_: _alias, ...rest } = dto;
    return toMessageResponse(await this.messages.send({ ...rest, from: senderOf(dto) }));
  }

  @Post('api/messages/sms')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an SMS or MMS' })
  @ApiAcceptedResponse({ type: MessageResponse, description: 'Stored as queued; delivery follows.' })
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async sendSms(@Body() dto: SendSmsDto): Promise<MessageResponse> {
    return toMessageResponse(await this.messages.send(dto));
  }

  @Post('api/messages/email')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send an email' })
  @ApiAcceptedResponse({ type: MessageResponse, description: 'Stored as queued; delivery follows.' })
  @ApiProblemResponses(400, 413, 415, 422, 503)
  async sendEmail(@Body() dto: SendEmailDto): Promise<MessageResponse> {
    return toMessageResponse(await this.messages.send({ ...dto, type: 'email' }));
  }

  @Get('api/messages/:id')
  @ApiOperation({ summary: 'Get one message with its delivery status' })
  @ApiOkResponse({ type: MessageResponse })
  @ApiProblemResponses(404, 422)
  async get(@Param('id', IdParamPipe) id: string): Promise<MessageResponse> {
    return toMessageResponse(await this.messages.get(id));
  }
}
