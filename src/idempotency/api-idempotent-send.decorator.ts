import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiResponse, type ApiResponseOptions, getSchemaPath } from '@nestjs/swagger';
import { ProblemDetailsDoc } from '../common/http/api-problem-responses';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from './idempotency-key-header';
import { IN_FLIGHT_RETRY_AFTER_SECONDS } from './idempotency.errors';
import { IDEMPOTENCY_KEY_TTL_HOURS } from './idempotency.service';
import { IdempotencyKeyGuard } from './idempotency-key.guard';

/** Swagger for the `Idempotent-Replayed` header of an answer that may be a replay. */
export const IDEMPOTENT_REPLAYED_HEADER_DOC = {
  'Idempotent-Replayed': {
    description: '`true` when this answer is the stored answer of an earlier request with the same Idempotency-Key (nothing new was sent or stored); absent otherwise.',
    schema: { type: 'string', enum: ['true'] },
  },
};

/** A problem+json answer of `status`, as ApiProblemResponses documents them. */
const problem = (status: number, description: string, headers?: ApiResponseOptions['headers']): ApiResponseOptions => ({
  status,
  description,
  content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDoc) } } },
  ...(headers ? { headers } : {}),
});

/**
 * Makes a send endpoint take an optional `Idempotency-Key` (IdempotencyKeyGuard;
 * read it with @IdempotencyKey()) and documents it: the request header, and the 400,
 * 409 and 422 answers (with the endpoint's other 400/422 causes). The 202's
 * `Idempotent-Replayed` header is documented with the 202 (IDEMPOTENT_REPLAYED_HEADER_DOC).
 */
export function ApiIdempotentSend(): MethodDecorator {
  return applyDecorators(
    UseGuards(IdempotencyKeyGuard),
    ApiExtraModels(ProblemDetailsDoc),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        `Optional (draft-ietf-httpapi-idempotency-key-header). 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, bare ` +
        '(`Idempotency-Key: 3f0c...`) or as a structured-field string (`Idempotency-Key: "3f0c..."`); a UUID is recommended. ' +
        `The same key with the same request (endpoint and JSON body) within ${IDEMPOTENCY_KEY_TTL_HOURS} h replays the first answer ` +
        '(status and body, header Idempotent-Replayed: true) and sends nothing new. Keys are scoped per API key (bearer token). ' +
        'Only answers that created a message are kept; a request that failed (4xx, 5xx) stored nothing, so it may be retried with the same key.',
      schema: { type: 'string', maxLength: MAX_IDEMPOTENCY_KEY_LENGTH, example: '8e03978e-40d5-43e8-bc93-6894a57f9324' },
    }),
    ApiResponse(problem(400, 'Malformed JSON, or an invalid Idempotency-Key (`code` invalid_idempotency_key)')),
    ApiResponse(
      problem(409, 'A request with the same Idempotency-Key is still being processed (`code` idempotency_key_in_flight); retry after Retry-After seconds', {
        'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', example: IN_FLIGHT_RETRY_AFTER_SECONDS } },
      }),
    ),
    ApiResponse(
      problem(422, 'Validation failed (`errors` names each field), or the Idempotency-Key was already used for a different request (`code` idempotency_key_reused)'),
    ),
  );
}
