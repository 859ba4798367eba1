import { Controller, Get, Param, Query, Req, Res, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { IdParamPipe } from '../common/http/id-param.pipe';
import { PageQueryDto, pageRequest, setPaginationHeaders } from '../common/http/pagination';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { ConversationsService } from './conversations.service';
import { ConversationResponse, toConversationResponse } from './dto/conversation.response';

/** Conversation reads. */
@ApiTags('conversations')
@Controller('api/conversations')
@UsePipes(new RequestValidationPipe(true))
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @ApiOperation({ summary: 'List conversations, latest activity first', description: 'Headers: X-Total-Count and an RFC 8288 Link (first, prev, next, last).' })
  @ApiOkResponse({ type: [ConversationResponse] })
  @ApiProblemResponses(422)
  async list(@Query() query: PageQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConversationResponse[]> {
    const page = pageRequest(query, 20);
    const [rows, total] = await this.conversations.list(page);
    setPaginationHeaders(req, res, page, total);
    return rows.map(toConversationResponse);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get one conversation' })
  @ApiOkResponse({ type: ConversationResponse })
  @ApiProblemResponses(404, 422)
  async get(@Param('id', IdParamPipe) id: string): Promise<ConversationResponse> {
    return toConversationResponse(await this.conversations.get(id));
  }
}
