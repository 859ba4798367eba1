import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerRequest } from '@nestjs/throttler';
import { TooManyRequestsError } from '../common/errors/app-error';
import { ANONYMOUS_CALLER, callerKeyId } from '../auth/caller-key-id';
import { IS_PUBLIC } from '../auth/public.decorator';

/**
 * @param limit requests per window
 * @param windowSeconds the window, seconds
 * @returns the RateLimit-Policy value: `<limit>;w=<window>` (draft-ietf-httpapi-ratelimit-headers-06)
 */
export function rateLimitPolicy(limit: number, windowSeconds: number): string {
  return `${limit};w=${windowSeconds}`;
}

/**
 * @nestjs/throttler's guard as the client API uses it (installed globally by
 * RateLimitModule, after AuthModule's ApiKeyGuard):
 * - one budget per API key (callerKeyId) across all client endpoints, or per client
 *   IP (an IPv6 /64) while the API runs open;
 * - @Public() endpoints (health, webhooks) are not counted;
 * - answers carry the header fields of draft-ietf-httpapi-ratelimit-headers-06:
 *   `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the
 *   window ends) and `RateLimit-Policy`;
 * - over the limit: 429 problem+json (`rate_limited`) with `Retry-After` in seconds
 *   (RFC 9110, section 10.2.3), and the RateLimit fields with 0 remaining.
 */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  protected override headerPrefix = 'RateLimit';

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    return this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]) === true;
  }

  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const id = callerKeyId(req);
    return id === ANONYMOUS_CALLER ? `ip:${await super.getTracker(req)}` : `key:${id}`;
  }

  /** One counter per caller and throttler, whichever endpoint it calls (the default counts per handler). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { res } = this.getRequestResponse(request.context);
    this.setResponseHeader(res, 'RateLimit-Policy', rateLimitPolicy(request.limit, Math.ceil(request.ttl / 1000)));
    return super.handleRequest(request);
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = String(Math.max(1, detail.timeToBlockExpire));
    throw new TooManyRequestsError(`More than ${detail.limit} requests in ${Math.ceil(detail.ttl / 1000)} s; try again in ${retryAfter} s.`, {
      'Retry-After': retryAfter,
      'RateLimit-Limit': String(detail.limit),
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': retryAfter,
    });
  }
}
