import { Controller, Get, Param, Query, Req, Res, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { IdParamPipe } from '../common/http/id-param.pipe';
import { PageQueryDto, pageRequest, setPaginationHeaders } from '../common/http/pagination';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { MessageResponse, toMessageResponse } from './dto/message.response';
import { MessagesService } from './messages.service';

/** Messages of one conversation. */
@ApiTags('conversations')
@Controller('api/conversations/:id/messages')
@UsePipes(new RequestValidationPipe(true))
export class ConversationMessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get()
  @ApiOperation({ summary: "List a conversation's messages, oldest first", description: 'Ordered by timestamp, then id. Headers: X-Total-Count and an RFC 8288 Link.' })
  @ApiOkResponse({ type: [MessageResponse] })
  @ApiProblemResponses(404, 422)
  async list(
    @Param('id', IdParamPipe) id: string,
    @Query() query: PageQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageResponse[]> {
    const page = pageRequest(query, 50);
    const [rows, total] = await this.messages.listByConversation(id, page);
    setPaginationHeaders(req, res, page, total);
    return rows.map(toMessageResponse);
  }
}
