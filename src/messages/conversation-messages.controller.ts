import { Controller, Get, Param, Query, Req, Res, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiClientAuth } from '../auth/api-client-auth.decorator';
import { ApiRateLimited } from '../rate-limit/api-rate-limited.decorator';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { IdParamPipe } from '../common/http/id-param.pipe';
import { LIST_HEADERS } from '../common/http/api-list-headers';
import { listRequest, PageQueryDto, setCursorHeaders, setPaginationHeaders } from '../common/http/pagination';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { MessageResponse, toMessageResponse } from './dto/message.response';
import { MessagesService } from './messages.service';

/** Messages of one conversation. */
@ApiTags('conversations')
@ApiClientAuth()
@ApiRateLimited()
@Controller('api/conversations/:id/messages')
@UsePipes(new RequestValidationPipe(true))
export class ConversationMessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get()
  @ApiOperation({
    summary: "List a conversation's messages, oldest first",
    description:
      'Ordered by timestamp, then id. By page (`page`, `per_page`): headers X-Total-Count and an RFC 8288 Link. ' +
      'By cursor (`cursor=` for the first page, then the Link rel="next"): as fast on any page, no X-Total-Count.',
  })
  @ApiOkResponse({ type: [MessageResponse], headers: LIST_HEADERS })
  @ApiProblemResponses(404, 422)
  async list(
    @Param('id', IdParamPipe) id: string,
    @Query() query: PageQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse[]> {
    const request = listRequest(query, 50, 'conversation-messages');
    if ('cursor' in request) {
      const { rows, next } = await this.messages.listByConversationAfter(id, request.cursor);
      setCursorHeaders(req, res, request.cursor.perPage, next);
      return rows.map(toMessageResponse);
    }
    const [rows, total] = await this.messages.listByConversation(id, request.page);
    setPaginationHeaders(req, res, request.page, total);
    return rows.map(toMessageResponse);
  }
}
