import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDetailsDoc } from '../common/http/api-problem-responses';
import { WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_TOLERANCE_S } from '../providers/mock/mock-webhook.signature';

/**
 * Swagger for a signed webhook endpoint: the mock providers' signature headers and the
 * 401 a missing or wrong signature gets.
 */
export function ApiWebhookSignature(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiHeader({
      name: WEBHOOK_SIGNATURE_HEADER,
      required: false,
      description:
        'Required when WEBHOOK_SECRET is set (mock providers): lowercase hex HMAC-SHA256, keyed with WEBHOOK_SECRET, of ' +
        '`X-Webhook-Timestamp + "." + raw request body`. Other providers use their own scheme and headers.',
      schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    }),
    ApiHeader({
      name: WEBHOOK_TIMESTAMP_HEADER,
      required: false,
      description: `Required with the signature: Unix time in seconds when the provider signed; refused when more than ${WEBHOOK_TOLERANCE_S / 60} minutes off, either way (replays).`,
      schema: { type: 'string', example: '1732716000' },
    }),
    ApiExtraModels(ProblemDetailsDoc),
    ApiResponse({
      status: 401,
      description: 'Signature or timestamp missing, malformed, outside the replay window or wrong (code invalid_signature); nothing is stored.',
      content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDoc) } } },
    }),
  );
}
