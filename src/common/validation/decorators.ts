import { isURL, registerDecorator, ValidateIf, ValidationArguments, ValidationOptions } from 'class-validator';
import { registerItemCheck } from './item-errors';

/** Most attachments one message may carry (Twilio allows 10 media URLs per MMS). */
export const MAX_ATTACHMENTS = 10;

/**
 * The property may be absent, but when present it must not be `null`
 * (class-validator's IsOptional would let `null` through).
 */
export function IsOptionalNotNull(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined, options);
}

function attachmentItemProblem(item: unknown): string | null {
  if (typeof item !== 'string') return 'must be a URL string';
  if (!isURL(item, { protocols: ['http', 'https'], require_protocol: true, require_tld: false })) {
    return 'must be an http(s) URL';
  }
  return null;
}
registerItemCheck('attachmentUrls', attachmentItemProblem);

/** A list of at most {@link MAX_ATTACHMENTS} http(s) URLs; errors name each bad item (`attachments[1]`). */
export function IsAttachmentUrls(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'attachmentUrls',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) && value.length <= MAX_ATTACHMENTS && value.every((i) => attachmentItemProblem(i) === null),
        defaultMessage: (args?: ValidationArguments) =>
          Array.isArray(args?.value)
            ? `must hold at most ${MAX_ATTACHMENTS} URLs`
            : 'must be a list of http(s) URLs',
      },
    });
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** An ISO 8601 date-time with a zone (`Z` or an offset), e.g. `2025-05-21T18:00:00Z`. */
export function IsZonedTimestamp(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'zonedTimestamp',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && ISO_WITH_ZONE.test(value) && !Number.isNaN(Date.parse(value)),
        defaultMessage: () => 'must be an ISO 8601 date-time with a zone, e.g. 2025-05-21T18:00:00Z',
      },
    });
}

/** A string without NUL characters (PostgreSQL text cannot hold them). */
export function HasNoNul(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'hasNoNul',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !value.includes('\u0000'),
        defaultMessage: () => 'must not contain NUL characters',
      },
    });
}
