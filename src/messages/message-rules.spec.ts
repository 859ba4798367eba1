import fc from 'fast-check';
import { bodySegments, contentErrors, MAX_EMAIL_BODY_BYTES, MAX_FUTURE_SKEW_MS, MAX_SMS_BODY_CHARS, resolveTimestamp } from './message-rules';

const URL = 'https://example.com/a.png';
const urls = (n: number) => Array.from({ length: n }, (_, i) => `https://example.com/${i}.png`);
const fields = (errors: { field: string }[]) => errors.map((e) => e.field);

describe('contentErrors', () => {
  it('accepts a plain sms, an mms with 1..10 attachments and an email with or without attachments', () => {
    expect(contentErrors('sms', 'hi', [])).toEqual([]);
    expect(contentErrors('mms', 'pic', [URL])).toEqual([]);
    expect(contentErrors('mms', 'pics', urls(10))).toEqual([]);
    expect(contentErrors('email', '<p>hi</p>', [])).toEqual([]);
    expect(contentErrors('email', '<p>hi</p>', urls(3))).toEqual([]);
  });

  it('rejects an sms with attachments (they travel as mms)', () => {
    const errors = contentErrors('sms', 'hi', [URL]);
    expect(fields(errors)).toEqual(['attachments']);
    expect(errors[0].message).toMatch(/mms/);
  });

  it('rejects an mms without attachments', () => {
    expect(fields(contentErrors('mms', 'pic', []))).toEqual(['attachments']);
  });

  it('lets an mms have an empty body (a picture alone), but not an sms or an email', () => {
    expect(contentErrors('mms', '', [URL])).toEqual([]);
    expect(fields(contentErrors('sms', '', []))).toEqual(['body']);
    expect(fields(contentErrors('sms', '   \n', []))).toEqual(['body']);
    expect(fields(contentErrors('email', '', []))).toEqual(['body']);
  });

  it('limits sms/mms bodies to 1,600 characters', () => {
    expect(MAX_SMS_BODY_CHARS).toBe(1600);
    expect(contentErrors('sms', 'x'.repeat(1600), [])).toEqual([]);
    expect(fields(contentErrors('sms', 'x'.repeat(1601), []))).toEqual(['body']);
    expect(fields(contentErrors('mms', 'x'.repeat(1601), [URL]))).toEqual(['body']);
  });

  it('counts characters (code points), not UTF-16 units', () => {
    expect(contentErrors('sms', '😀'.repeat(1600), [])).toEqual([]);
    expect(fields(contentErrors('sms', '😀'.repeat(1601), []))).toEqual(['body']);
  });

  it('says what the limit counts and how long the body is', () => {
    expect(contentErrors('sms', '😀'.repeat(1601), [])).toEqual([
      { field: 'body', message: 'must be at most 1,600 characters (Unicode code points) for sms and mms; it has 1,601' },
    ]);
    expect(contentErrors('mms', 'x'.repeat(2000), [URL])[0].message).toMatch(/it has 2,000$/);
  });

  it('limits email bodies to 1 MB of UTF-8, not to 1,600 characters', () => {
    expect(contentErrors('email', 'x'.repeat(1601), [])).toEqual([]);
    expect(contentErrors('email', 'x'.repeat(MAX_EMAIL_BODY_BYTES), [])).toEqual([]);
    expect(fields(contentErrors('email', 'x'.repeat(MAX_EMAIL_BODY_BYTES + 1), []))).toEqual(['body']);
    // 'é' is 2 bytes in UTF-8: half a million of them fill the megabyte, one more breaks it.
    expect(contentErrors('email', 'é'.repeat(MAX_EMAIL_BODY_BYTES / 2), [])).toEqual([]);
    expect(fields(contentErrors('email', 'é'.repeat(MAX_EMAIL_BODY_BYTES / 2 + 1), []))).toEqual(['body']);
  });

  it('reports every broken rule at once', () => {
    expect(fields(contentErrors('sms', 'x'.repeat(1601), [URL]))).toEqual(['attachments', 'body']);
  });

  it('property: an sms/mms body is accepted exactly when it has 1..1,600 code points and a non-blank one for sms', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 1700 }), fc.constantFrom('sms' as const, 'mms' as const), (body, type) => {
        const bodyErrors = contentErrors(type, body, type === 'mms' ? [URL] : []).filter((e) => e.field === 'body');
        const tooLong = [...body].length > MAX_SMS_BODY_CHARS;
        const blank = type === 'sms' && body.trim() === '';
        expect(bodyErrors.length > 0).toBe(tooLong || blank);
      }),
      { numRuns: 200 },
    );
  });
});

describe('bodySegments', () => {
  it('counts the segments of an sms body, and its encoding', () => {
    expect(bodySegments('sms', 'hi')).toEqual({ segments: 1, encoding: 'GSM-7' });
    expect(bodySegments('sms', 'x'.repeat(161))).toEqual({ segments: 2, encoding: 'GSM-7' });
    expect(bodySegments('sms', '😀'.repeat(36))).toEqual({ segments: 2, encoding: 'UCS-2' });
  });

  it('counts an mms body as the sms it would be (an empty one is 1 segment)', () => {
    expect(bodySegments('mms', 'x'.repeat(161))).toEqual({ segments: 2, encoding: 'GSM-7' });
    expect(bodySegments('mms', 'Ж'.repeat(71))).toEqual({ segments: 2, encoding: 'UCS-2' });
    expect(bodySegments('mms', '')).toEqual({ segments: 1, encoding: 'GSM-7' });
  });

  it('has none for email', () => {
    expect(bodySegments('email', 'x'.repeat(161))).toBeNull();
    expect(bodySegments('email', '')).toBeNull();
  });
});

describe('resolveTimestamp', () => {
  const now = Date.parse('2025-05-21T18:00:00Z');

  it('uses now when the timestamp is absent', () => {
    expect(resolveTimestamp(undefined, true, now)).toEqual(new Date(now));
  });

  it('reads the instant with its zone', () => {
    expect((resolveTimestamp('2024-11-01T14:00:00+02:00', true, now) as Date).toISOString()).toBe('2024-11-01T12:00:00.000Z');
    expect((resolveTimestamp('2024-11-01T14:00:00Z', false, now) as Date).toISOString()).toBe('2024-11-01T14:00:00.000Z');
  });

  it('accepts a client timestamp up to 5 minutes ahead (clock skew) and rejects one further ahead', () => {
    expect(MAX_FUTURE_SKEW_MS).toBe(300_000);
    expect(resolveTimestamp(new Date(now + MAX_FUTURE_SKEW_MS).toISOString(), true, now)).toBeInstanceOf(Date);
    expect(resolveTimestamp(new Date(now + MAX_FUTURE_SKEW_MS + 1).toISOString(), true, now)).toEqual({
      field: 'timestamp',
      message: expect.stringMatching(/future/),
    });
    expect(resolveTimestamp(new Date(now + 10 * 60_000).toISOString(), true, now)).toMatchObject({ field: 'timestamp' });
  });

  it('accepts any future timestamp when not asked to reject it (webhooks: the provider clock rules)', () => {
    const later = new Date(now + 10 * 60_000).toISOString();
    expect((resolveTimestamp(later, false, now) as Date).toISOString()).toBe(later);
  });

  it('accepts timestamps in the past', () => {
    expect(resolveTimestamp('1999-12-31T23:59:59Z', true, now)).toBeInstanceOf(Date);
  });
});
