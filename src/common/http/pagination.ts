import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Request, Response } from 'express';

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
}

/** A resolved page request. */
export interface PageRequest {
  page: number;
  perPage: number;
  /** Rows to skip. */
  offset: number;
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
