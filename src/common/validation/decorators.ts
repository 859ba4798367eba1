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

/** C0 control characters and DEL: RFC 3986 never allows them raw in a URL (isURL lets them through in the path). */
const URL_CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/** A UTF-16 surrogate without its pair: not Unicode text, so PostgreSQL's jsonb cannot store it. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function attachmentItemProblem(item: unknown): string | null {
  if (typeof item !== 'string') return 'must be a URL string';
  if (URL_CONTROL_CHARACTER.test(item) || UNPAIRED_SURROGATE.test(item)) return 'must be an http(s) URL';
  if (!isURL(item, { protocols: ['http', 'https'], require_protocol: true, require_tld: false })) {
    return 'must be an http(s) URL';
  }
  return null;
}
registerItemCheck('attachmentUrls', attachmentItemProblem, MAX_ATTACHMENTS);

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

/**
 * @returns true when the `YYYY-MM-DD` that `value` starts with names a real calendar day
 *   (Date.parse rolls `2024-02-30` over to March 1 instead of failing)
 */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0..99 as 1900..1999
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

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
          typeof value === 'string' && ISO_WITH_ZONE.test(value) && isCalendarDate(value) && !Number.isNaN(Date.parse(value)),
        defaultMessage: () => 'must be an ISO 8601 date-time with a zone, e.g. 2025-05-21T18:00:00Z',
      },
    });
}

/**
 * A string PostgreSQL can store as text: no NUL character and no unpaired UTF-16
 * surrogate (which would be stored as U+FFFD, so two different provider ids could
 * collide).
 */
export function IsPlainText(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isPlainText',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || (!value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value)),
        defaultMessage: () => 'must be Unicode text without NUL characters or unpaired surrogates',
      },
    });
}
