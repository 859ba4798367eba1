import type { MessageType } from '../common/channel';
import type { FieldError } from '../common/errors/app-error';
import { MAX_ATTACHMENTS } from '../common/validation/decorators';
import { smsSegments, type SmsEncoding } from './sms-segments';

/**
 * Longest SMS/MMS body, in characters: Unicode code points, so an emoji counts one like
 * any letter (a JavaScript string's `length` would count it two). Twilio's limit for a
 * message body ("up to 1,600 characters"); it is not a segment limit: 1,600 GSM-7
 * characters take 11 segments, 1,600 emoji 48.
 */
export const MAX_SMS_BODY_CHARS = 1600;
/** Largest email body, bytes (UTF-8). */
export const MAX_EMAIL_BODY_BYTES = 1_000_000;
/** How far in the future a client-sent timestamp may be (clock skew), ms. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/**
 * Checks the rules that depend on the message type: sms carries no attachments (use
 * mms), mms carries 1..10, sms/mms bodies up to 1,600 characters (code points, see
 * MAX_SMS_BODY_CHARS) and non-empty for sms, email bodies up to 1 MB and non-empty.
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
  } else {
    const chars = [...body].length;
    if (chars > MAX_SMS_BODY_CHARS) {
      const limit = MAX_SMS_BODY_CHARS.toLocaleString('en-US');
      errors.push({ field: 'body', message: `must be at most ${limit} characters (Unicode code points) for sms and mms; it has ${chars.toLocaleString('en-US')}` });
    }
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

/** What a message's body takes as SMS, as stored with the message. */
export interface BodySegments {
  /** SMS segments (parts) the body takes, >= 1. */
  segments: number;
  encoding: SmsEncoding;
}

/**
 * The SMS segments of a message's body (sms-segments.ts), stored with every SMS and MMS,
 * outbound and inbound.
 * - sms: the segments it is sent (or was received) as; a carrier bills each one.
 * - mms: what its text would take as SMS. An MMS travels, and is billed, as one message
 *   whatever its text; the count tells what the text would cost as SMS (an MMS sent to
 *   a number that cannot take MMS falls back to SMS at some providers) and whether it
 *   needs UCS-2. An MMS without text (a picture alone) counts 1, as an empty SMS would.
 * - email: null (no segments).
 */
export function bodySegments(type: MessageType, body: string): BodySegments | null {
  if (type === 'email') return null;
  const { segments, encoding } = smsSegments(body);
  return { segments, encoding };
}
