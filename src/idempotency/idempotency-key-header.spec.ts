import { InvalidIdempotencyKeyError } from './idempotency.errors';
import { parseIdempotencyKeyHeader } from './idempotency-key-header';

const uuid = '8e03978e-40d5-43e8-bc93-6894a57f9324';

describe('parseIdempotencyKeyHeader', () => {
  it('has no key without the header', () => {
    expect(parseIdempotencyKeyHeader(undefined)).toBeUndefined();
    expect(parseIdempotencyKeyHeader([])).toBeUndefined();
  });

  it('takes a bare key as it stands (Stripe style)', () => {
    expect(parseIdempotencyKeyHeader([uuid])).toBe(uuid);
    expect(parseIdempotencyKeyHeader(['order 42: retry #1 (a=b, c)'])).toBe('order 42: retry #1 (a=b, c)');
  });

  it('reads a structured-field string (the draft, RFC 8941) as the same key', () => {
    expect(parseIdempotencyKeyHeader([`"${uuid}"`])).toBe(uuid);
    expect(parseIdempotencyKeyHeader(['"say \\"hi\\" \\\\ bye"'])).toBe('say "hi" \\ bye');
    expect(parseIdempotencyKeyHeader([`"${uuid}";v=1`])).toBe(uuid);
  });

  it('accepts 1 and 255 characters', () => {
    expect(parseIdempotencyKeyHeader(['k'])).toBe('k');
    expect(parseIdempotencyKeyHeader(['k'.repeat(255)])).toBe('k'.repeat(255));
    expect(parseIdempotencyKeyHeader([`"${'k'.repeat(255)}"`])).toBe('k'.repeat(255));
  });

  it.each([
    ['empty', ['']],
    ['only white space', ['   ']],
    ['256 characters', ['k'.repeat(256)]],
    ['a quoted string of 256 characters', [`"${'k'.repeat(256)}"`]],
    ['an empty quoted string', ['""']],
    ['non-ASCII', ['clé']],
    ['a control character', ['a\u0001b']],
    ['an unterminated quoted string', ['"abc']],
    ['a quoted string followed by junk', ['"abc" def']],
    ['a bad escape in a quoted string', ['"a\\nb"']],
    ['two header fields', [uuid, uuid]],
  ])('refuses %s with InvalidIdempotencyKeyError (400)', (_, values) => {
    let error: unknown;
    try {
      parseIdempotencyKeyHeader(values);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidIdempotencyKeyError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_idempotency_key' });
  });
});
