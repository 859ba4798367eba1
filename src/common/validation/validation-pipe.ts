import { ArgumentMetadata, ValidationError as ClassValidatorError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { FieldError, ValidationError } from '../errors/app-error';
import { itemErrorsFor } from './item-errors';

/**
 * Turns class-validator's error tree into flat field errors with paths such as
 * `attachments[0]` or `meta.tags[2]`. Array-valued properties validated item by item
 * (see item-errors.ts) are expanded to one error per bad item.
 */
export function flattenValidationErrors(errors: ClassValidatorError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent ? `${parent}.${error.property}` : error.property;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      const items = itemErrorsFor(constraint, field, error.value);
      if (items.length > 0) out.push(...items);
      else out.push({ field, message: constraint === 'whitelistValidation' ? 'is not a known field' : message });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

function pipeOptions(rejectUnknownFields: boolean): ValidationPipeOptions {
  return {
    whitelist: true,
    forbidNonWhitelisted: rejectUnknownFields,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => new ValidationError(flattenValidationErrors(errors)),
  };
}

/**
 * A ValidationPipe whose failures are 422 problem+json with field paths, that never
 * converts types implicitly and rejects a body that is not a JSON object.
 * @param rejectUnknownFields true on client endpoints (typos in a body fail loudly),
 *   false on webhooks (providers add fields over time; unknown ones are dropped).
 *   Unknown query parameters are always dropped, never rejected.
 */
export class RequestValidationPipe extends ValidationPipe {
  private readonly queryPipe = new ValidationPipe(pipeOptions(false));

  constructor(rejectUnknownFields: boolean) {
    super(pipeOptions(rejectUnknownFields));
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'query') return this.queryPipe.transform(value, metadata);
    if (metadata.type === 'body' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new ValidationError([{ field: '$', message: 'the request body must be a JSON object' }]);
    }
    return super.transform(value, metadata);
  }
}
