import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDetailsDoc } from '../common/http/api-problem-responses';

const seconds = { type: 'integer' as const, minimum: 0 };

/**
 * Swagger for rate-limited client endpoints: the 429 answer with Retry-After and the
 * RateLimit fields. Successful answers carry the same RateLimit fields (documented in
 * the API description). Put it on every controller that is not @Public().
 */
export function ApiRateLimited(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDoc),
    ApiResponse({
      status: 429,
      description: 'Rate limit of the API key (or client IP while the API runs open) used up for this window',
      headers: {
        'Retry-After': { description: 'Seconds until the window ends and requests are accepted again', schema: seconds },
        'RateLimit-Limit': { description: 'Requests allowed per window', schema: seconds },
        'RateLimit-Remaining': { description: 'Requests left in the window: 0', schema: seconds },
        'RateLimit-Reset': { description: 'Seconds until the window ends', schema: seconds },
        'RateLimit-Policy': { description: '`<limit>;w=<window seconds>`', schema: { type: 'string', example: '6000;w=60' } },
      },
      content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDoc) } } },
    }),
  );
}
