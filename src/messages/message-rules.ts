import type { MessageType } from '../common/channel';
import type { FieldError } from '../common/errors/app-error';
import { MAX_ATTACHMENTS } from '../common/validation/decorators';

/** Longest SMS/MMS body, characters (Twilio's limit: 10 segments of 160). */
export const MAX_SMS_BODY_CHARS = 1600;
/** Largest email body, bytes (UTF-8). */
export const MAX_EMAIL_BODY_BYTES = 1_000_000;
/** How far in the future a client-sent timestamp may be (clock skew), ms. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/**
 * Checks the rules that depend on the message type: sms carries no attachments (use
 * mms), mms carries 1..10, sms/mms bodies up to 1,600 characters and non-empty for sms,
 * email bodies up to 1 MB and non-empty.
 * @returns the broken rules, empty when the content is fine
 */
export function contentErrors(type: MessageType, body: string, attachments: string[]): FieldError[] {
  const errors: FieldError[] = [];
  if (type === 'sms' && attachments.length > 0) {
    errors.push({ field: 'attachments', message: 'sms messages carry no attachments; send them as type mms' });
  }
  if (type === 'mms' && attachments.length === 0) {
    errors.push({ field: 'attachments', message: `mms messages need 1 to ${MAX_ATTACHMENTS} attachment URLs` });
  }
  if (type === 'email') {
    if (Buffer.byteLength(body, 'utf8') > MAX_EMAIL_BODY_BYTES) errors.push({ field: 'body', message: 'must be at most 1 MB' });
  } else if ([...body].length > MAX_SMS_BODY_CHARS) {
    errors.push({ field: 'body', message: `must be at most ${MAX_SMS_BODY_CHARS} characters` });
  }
  if (type !== 'mms' && body.trim() === '') errors.push({ field: 'body', message: 'must not be empty' });
  return errors;
}

/**
 * @param timestamp ISO 8601 with a zone (already checked by the DTO), or undefined for now
 * @param rejectFuture true for client sends: more than 5 minutes ahead is an error
 * @returns the instant, or a field error
 */
export function resolveTimestamp(timestamp: string | undefined, rejectFuture: boolean, now = Date.now()): Date | FieldError {
  if (timestamp === undefined) return new Date(now);
  const at = new Date(timestamp);
  if (rejectFuture && at.getTime() - now > MAX_FUTURE_SKEW_MS) {
    return { field: 'timestamp', message: 'must not be more than 5 minutes in the future' };
  }
  return at;
}
