import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDetailsDoc } from '../common/http/api-problem-responses';

/** Name of the bearer security scheme in the OpenAPI document (configureApp adds it). */
export const BEARER_SCHEME = 'api-key';

/**
 * Swagger for client endpoints: they need the bearer API key, and answer 401 with a
 * `WWW-Authenticate` challenge without one. Put it on every controller that is not @Public().
 */
export function ApiClientAuth(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiBearerAuth(BEARER_SCHEME),
    ApiExtraModels(ProblemDetailsDoc),
    ApiResponse({
      status: 401,
      description: 'No API key, or not a valid one (only when API_KEYS is set)',
      headers: {
        'WWW-Authenticate': {
          description: 'RFC 6750 challenge: `Bearer realm="messaging-service"`, with `error="invalid_token"` for a wrong key',
          schema: { type: 'string' },
        },
      },
      content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDoc) } } },
    }),
  );
}
