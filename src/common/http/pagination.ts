import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { Request, Response } from 'express';
import { ValidationError } from '../errors/app-error';
import { type CursorKey, decodeCursor } from './cursor';

/** Query values arrive as strings: convert only plain digit strings, so `abc` or `1.5` fail IsInt. */
const toInteger = ({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d{1,9}$/.test(value) ? Number(value) : value);

/** `page` and `per_page` query parameters (page >= 1, per_page 1..100). */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, description: 'Default 20 for conversations, 50 for messages.' })
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100)
  per_page?: number;

  @ApiPropertyOptional({
    description:
      'Keyset pagination instead of page numbers: empty (`cursor=`) for the first page, then the URL of the answer\'s ' +
      '`Link` rel="next" as it is (an opaque token; it holds the position after the last row). Pages are as fast deep ' +
      'down as at the start, and rows stored meanwhile neither shift nor repeat rows. No X-Total-Count. Not with `page` (422).',
    example: '',
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

/** A resolved page request. */
export interface PageRequest {
  page: number;
  perPage: number;
  /** Rows to skip. */
  offset: number;
}

/** A keyset page request (`cursor`): start after `after`, or at the start when it is null. */
export interface CursorRequest {
  perPage: number;
  after: CursorKey | null;
}

/**
 * Reads the paging of a list request: keyset pagination when `cursor` is present (an
 * empty cursor starts at the first page), page/per_page otherwise.
 * @param list the cursor's list name (see encodeCursor)
 * @throws ValidationError (422) for a cursor of another list or none at all, and for `cursor` with `page`
 */
export function listRequest(query: PageQueryDto, defaultPerPage: number, list: string): { cursor: CursorRequest } | { page: PageRequest } {
  if (query.cursor === undefined) return { page: pageRequest(query, defaultPerPage) };
  if (query.page !== undefined) {
    throw new ValidationError([{ field: 'page', message: 'cannot be combined with cursor: follow the Link rel="next" of a cursor page instead' }]);
  }
  return { cursor: { perPage: query.per_page ?? defaultPerPage, after: query.cursor === '' ? null : decodeCursor(list, query.cursor) } };
}

/**
 * Sets the RFC 8288 `Link` header of a keyset page: `first` (an empty cursor) and, unless
 * this is the last page, `next` with the cursor after its last row; relative URIs on the
 * request's own path that keep its other query parameters. No X-Total-Count: counting
 * every matching row is what keyset pagination avoids (a count over a million rows takes
 * longer than the page itself).
 */
export function setCursorHeaders(req: Request, res: Response, perPage: number, next: string | null): void {
  const link = (cursor: string, rel: string) => {
    const params = new URLSearchParams(req.query as Record<string, string>);
    params.delete('page');
    params.set('cursor', cursor);
    params.set('per_page', String(perPage));
    return `<${req.path}?${params.toString()}>; rel="${rel}"`;
  };
  res.setHeader('Link', [link('', 'first'), ...(next ? [link(next, 'next')] : [])].join(', '));
}

/** @returns the page request with defaults applied */
export function pageRequest(query: PageQueryDto, defaultPerPage: number): PageRequest {
  const page = query.page ?? 1;
  const perPage = query.per_page ?? defaultPerPage;
  return { page, perPage, offset: (page - 1) * perPage };
}

/**
 * Sets `X-Total-Count` and an RFC 8288 `Link` header with `first`, `prev`, `next` and
 * `last` relations (relative URIs on the request's own path).
 */
export function setPaginationHeaders(req: Request, res: Response, page: PageRequest, total: number): void {
  const lastPage = Math.max(1, Math.ceil(total / page.perPage));
  const link = (p: number, rel: string) => {
    const params = new URLSearchParams(req.query as Record<string, string>);
    params.set('page', String(p));
    params.set('per_page', String(page.perPage));
    return `<${req.path}?${params.toString()}>; rel="${rel}"`;
  };
  const links = [link(1, 'first')];
  if (page.page > 1) links.push(link(Math.min(page.page - 1, lastPage), 'prev'));
  if (page.page < lastPage) links.push(link(page.page + 1, 'next'));
  links.push(link(lastPage, 'last'));
  res.setHeader('X-Total-Count', String(total));
  res.setHeader('Link', links.join(', '));
}
