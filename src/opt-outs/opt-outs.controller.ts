import { Controller, Get, Query, Req, Res, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiClientAuth } from '../auth/api-client-auth.decorator';
import { ApiRateLimited } from '../rate-limit/api-rate-limited.decorator';
import { ApiProblemResponses } from '../common/http/api-problem-responses';
import { LIST_HEADERS } from '../common/http/api-list-headers';
import { listRequest, PageQueryDto, setCursorHeaders, setPaginationHeaders } from '../common/http/pagination';
import { RequestValidationPipe } from '../common/validation/validation-pipe';
import { OptOutResponse, toOptOutResponse } from './dto/opt-out.response';
import { OptOutsService } from './opt-outs.service';

/** Opt-out reads: who replied STOP to which of our numbers. */
@ApiTags('opt-outs')
@ApiClientAuth()
@ApiRateLimited()
@Controller('api/opt-outs')
@UsePipes(new RequestValidationPipe(true))
export class OptOutsController {
  constructor(private readonly optOuts: OptOutsService) {}

  @Get()
  @ApiOperation({
    summary: 'List opt-outs, newest first',
    description:
      'Recipients who replied an opt-out keyword (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT; the whole ' +
      'body, any case) to one of our numbers. SMS/MMS sends from `sender` to `recipient` answer 422 recipient_opted_out ' +
      'until the recipient replies START, YES or UNSTOP, which removes the entry. Ordered by created_at, then id, both ' +
      'descending. By page: headers X-Total-Count and an RFC 8288 Link (first, prev, next, last); by cursor (`cursor=` ' +
      'for the first page, then the Link rel="next"): Link first and next, no X-Total-Count. per_page defaults to 50.',
  })
  @ApiOkResponse({ type: [OptOutResponse], headers: LIST_HEADERS })
  @ApiProblemResponses(422, 503)
  async list(@Query() query: PageQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<OptOutResponse[]> {
    const request = listRequest(query, 50, 'opt-outs');
    if ('cursor' in request) {
      const { rows, next } = await this.optOuts.listAfter(request.cursor);
      setCursorHeaders(req, res, request.cursor.perPage, next);
      return rows.map(toOptOutResponse);
    }
    const [rows, total] = await this.optOuts.list(request.page);
    setPaginationHeaders(req, res, request.page, total);
    return rows.map(toOptOutResponse);
  }
}
