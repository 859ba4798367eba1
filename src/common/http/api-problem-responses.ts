import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';

class FieldErrorDoc {
  @ApiProperty({ example: 'attachments[0]' }) field: string;
  @ApiProperty({ example: 'must be an http(s) URL' }) message: string;
}

/** RFC 9457 problem details, as every error answer carries them. */
export class ProblemDetailsDoc {
  @ApiProperty({ example: '/problems/validation-failed' }) type: string;
  @ApiProperty({ example: 'Validation failed' }) title: string;
  @ApiProperty({ example: 422 }) status: number;
  @ApiProperty({ example: 'The request body or parameters are invalid.' }) detail: string;
  @ApiProperty({ example: 'validation_failed' }) code: string;
  @ApiPropertyOptional({ type: [FieldErrorDoc] }) errors?: FieldErrorDoc[];
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed JSON',
  401: 'Missing or wrong credentials',
  404: 'No such resource',
  409: 'Conflict with the current state',
  413: 'Body over the size limit',
  415: 'Body is not application/json',
  422: 'Validation failed; `errors` names each field',
  503: 'Database or queue unavailable; retry later',
};

/** Documents error answers as application/problem+json for the given statuses. */
export function ApiProblemResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDoc),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDoc) } } },
      }),
    ),
  );
}
