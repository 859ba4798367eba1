import { parseItem } from 'structured-headers';
import { InvalidIdempotencyKeyError } from './idempotency.errors';

/** Longest idempotency key, characters (as Stripe allows). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** 1..255 printable ASCII characters (0x20-0x7E). */
const PRINTABLE_ASCII_KEY = new RegExp(`^[\\x20-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);

/**
 * Reads the idempotency key from the `Idempotency-Key` request header.
 *
 * The draft (draft-ietf-httpapi-idempotency-key-header, section 2.1) makes the field
 * an RFC 8941 structured-field String, `Idempotency-Key: "8e03978e-..."`, while Stripe
 * and most clients send the key bare, `Idempotency-Key: 8e03978e-...`. Both are
 * accepted and name the same key: a value that starts with `"` is parsed as a
 * structured-field String (escapes `\"` and `\\`; parameters are ignored), any other
 * value is the key as it stands. Either way the key must be 1..255 printable ASCII
 * characters.
 * @param values the header's field lines (Node's `headersDistinct`), undefined when absent
 * @returns the key, or undefined when the request has no `Idempotency-Key` header
 * @throws InvalidIdempotencyKeyError when the header is sent more than once (the draft:
 *   clients MUST NOT), is not a valid structured-field String, or the key is empty,
 *   longer than 255 characters or not printable ASCII
 */
export function parseIdempotencyKeyHeader(values: readonly string[] | undefined): string | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw new InvalidIdempotencyKeyError('Send the Idempotency-Key header once.');
  const value = values[0].trim();
  const key = value.startsWith('"') ? structuredString(value) : value;
  if (!PRINTABLE_ASCII_KEY.test(key)) {
    throw new InvalidIdempotencyKeyError(`Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters.`);
  }
  return key;
}

/** @returns the String of an RFC 8941 Item; @throws InvalidIdempotencyKeyError when `value` is not one */
function structuredString(value: string): string {
  let item: ReturnType<typeof parseItem>;
  try {
    item = parseItem(value);
  } catch {
    throw new InvalidIdempotencyKeyError('Idempotency-Key starts with a quote but is not a valid structured-field string (RFC 8941).');
  }
  if (typeof item[0] !== 'string') {
    throw new InvalidIdempotencyKeyError('Idempotency-Key starts with a quote but is not a valid structured-field string (RFC 8941).');
  }
  return item[0];
}
