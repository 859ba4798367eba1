import { Controller, Get, Param, Query, Req, Res, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiClientAuth } from '../auth/api-client-auth.decorator';
import { ApiRateLimited } from '../rate-limit/api-rate-limited.decorator';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { IdParamPipe } from '../common/http/id-param.pipe';
import { listRequest, PageQueryDto, setCursorHeaders, setPaginationHeaders } from '../common/http/pagination';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { ConversationsService } from './conversations.service';
import { LIST_HEADERS } from '../common/http/api-list-headers';
import { ConversationResponse, toConversationResponse } from './dto/conversation.response';

/** Conversation reads. */
@ApiTags('conversations')
@ApiClientAuth()
@ApiRateLimited()
@Controller('api/conversations')
@UsePipes(new RequestValidationPipe(true))
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @ApiOperation({
    summary: 'List conversations, latest activity first',
    description:
      'By page (`page`, `per_page`): headers X-Total-Count and an RFC 8288 Link (first, prev, next, last). ' +
      'By cursor (`cursor=` for the first page, then the Link rel="next"): as fast on any page, Link first and next, no X-Total-Count.',
  })
  @ApiOkResponse({ type: [ConversationResponse], headers: LIST_HEADERS })
  @ApiProblemResponses(422)
  async list(@Query() query: PageQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConversationResponse[]> {
    const request = listRequest(query, 20, 'conversations');
    if ('cursor' in request) {
      const { rows, next } = await this.conversations.listAfter(request.cursor);
      setCursorHeaders(req, res, request.cursor.perPage, next);
      return rows.map(toConversationResponse);
    }
    const [rows, total] = await this.conversations.list(request.page);
    setPaginationHeaders(req, res, request.page, total);
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
