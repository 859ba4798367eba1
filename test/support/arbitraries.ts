import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * fast-check arbitraries for the property-based e2e suite (test/properties/): valid
 * addresses, bodies, attachments, timestamps and keys as the API's rules define them
 * (README: Send, SMS segments, Opt-outs, Safe retries), and the odd values malformed
 * requests are made of. Each valid arbitrary yields what is sent together with what
 * the service must make of it (the normalised address, the instant), computed here
 * from the rules, not by calling the service's own code.
 */

// ---------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------

/** A phone number as sent, and the E.164 form the service must store. */
export interface PhoneCase {
  input: string;
  e164: string;
}

/** Number plans to draw from: country code and a national significant number pattern (mobile ranges). */
const PHONE_PLANS: ReadonlyArray<{ cc: string; first: string[]; rest: number }> = [
  { cc: '1', first: ['201', '212', '415', '646', '804', '917', '312', '503'], rest: 7 }, // US/CA: 10 digits
  { cc: '44', first: ['77', '78', '79'], rest: 8 }, // UK mobile: 10 digits
  { cc: '49', first: ['151', '160', '170', '176'], rest: 8 }, // DE mobile
  { cc: '33', first: ['6', '7'], rest: 8 }, // FR mobile
  { cc: '91', first: ['98', '97', '70'], rest: 8 }, // IN mobile
  { cc: '61', first: ['4'], rest: 8 }, // AU mobile
  { cc: '55', first: ['119', '219'], rest: 8 }, // BR mobile (11 digits)
  { cc: '81', first: ['90', '80'], rest: 8 }, // JP mobile
  { cc: '86', first: ['138', '139'], rest: 8 }, // CN mobile
  { cc: '971', first: ['50', '55'], rest: 7 }, // AE mobile
];

/** A possible E.164 number (libphonenumber's `isPossible`, as the service requires), e.g. `+447712345678`. */
export const e164Arb: fc.Arbitrary<string> = fc
  .record({
    plan: fc.constantFrom(...PHONE_PLANS),
    pick: fc.nat(),
    digits: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 }),
  })
  .map(({ plan, pick, digits }) => `+${plan.cc}${plan.first[pick % plan.first.length]}${digits.slice(0, plan.rest).join('')}`)
  .filter((e164) => parsePhoneNumberFromString(e164)?.isPossible() === true);

/**
 * A few fixed numbers that random sends and webhooks share, so that conversations get
 * several messages and STOP replies meet later sends.
 */
export const PHONE_POOL: readonly string[] = ['+12015550100', '+12015550123', '+18045551234', '+447700900123', '+33612345678', '+4915112345678'];

/** The ways a client may write an E.164 number: as is, international with spaces, `00` for `+`, US national, with blanks around. */
function phoneVariants(e164: string): fc.Arbitrary<string> {
  const parsed = parsePhoneNumberFromString(e164)!;
  const variants = [e164, parsed.formatInternational(), `00${e164.slice(1)}`, parsed.formatInternational().replace(/ /g, '-')];
  if (parsed.countryCallingCode === '1') variants.push(parsed.formatNational(), parsed.nationalNumber, `1${parsed.nationalNumber}`);
  return fc.tuple(fc.constantFrom(...variants), fc.constantFrom('', ' ', '\t'), fc.constantFrom('', ' ', '\n')).map(([v, a, b]) => `${a}${v}${b}`);
}

/** A valid phone number in any accepted notation, from the pool (1 in 3) or random. */
export const phoneArb: fc.Arbitrary<PhoneCase> = fc
  .oneof({ weight: 1, arbitrary: fc.constantFrom(...PHONE_POOL) }, { weight: 2, arbitrary: e164Arb })
  .chain((e164) => phoneVariants(e164).map((input) => ({ input, e164 })));

// ---------------------------------------------------------------------------
// Email addresses
// ---------------------------------------------------------------------------

/** An email address as sent, and the bare lower-cased address the service must store. */
export interface EmailCase {
  input: string;
  address: string;
}

export const EMAIL_POOL: readonly string[] = ['team@example.com', 'ann@example.com', 'user@usehatchapp.com', 'contact@gmail.com'];

const displayNameArb = fc.constantFrom('Ann', 'Team Example', 'Zoë Ångström', 'محمد', '山田 太郎', '"Quoted, Name"', '👩‍💻 Dev');

/** A valid email address, plain or with a display name or `mailto:`, in any letter case. */
export const emailArb: fc.Arbitrary<EmailCase> = fc
  .record({
    address: fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...EMAIL_POOL) }, { weight: 2, arbitrary: fc.emailAddress({ size: 'small' }) }),
    form: fc.constantFrom('plain', 'named', 'mailto', 'upper'),
    name: displayNameArb,
  })
  .map(({ address, form, name }) => {
    const lower = address.toLowerCase();
    const input = form === 'named' ? `${name} <${address}>` : form === 'mailto' ? `mailto:${address}` : form === 'upper' ? address.toUpperCase() : address;
    return { input, address: lower };
  });

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

/** Pieces of text that tend to break things: RTL, emoji with joiners, combining marks, GSM extension characters, controls. */
const ODD_PIECES = [
  'مرحبا بالعالم', // Arabic (RTL)
  'שלום', // Hebrew (RTL)
  '\u202Eevil\u202C', // right-to-left override
  '\u200F\u200E', // RLM, LRM
  '👩‍👩‍👧‍👦', // ZWJ sequence
  '🇺🇸🇫🇷', // flags
  '👍🏽', // skin tone modifier
  'e\u0301', // combining acute
  'Z\u0324\u0354\u0367\u0311\u0313', // stacked combining marks
  '\u200B\u2060\uFEFF', // zero-width characters
  '€[]{}^~|\\', // GSM-7 extension table
  'ç’“”…', // outside GSM-7
  '漢字かなカナ', // CJK
  '\t\r\n', // whitespace controls
  '\u0007\u001B', // other controls (allowed: only NUL is refused)
  '<script>alert(1)</script>',
  "'; DROP TABLE messages; --",
  '%s%n%x',
  '\uD83D\uDE00', // an emoji as a surrogate pair
  '\u{10FFFF}', // highest code point
];

/** Unicode text made of random code points (no lone surrogates) and odd pieces. */
export function unicodeTextArb(maxPieces = 40): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
        { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
        { weight: 2, arbitrary: fc.constantFrom(...ODD_PIECES) },
        { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
      ),
      { maxLength: maxPieces },
    )
    .map((pieces) => pieces.join('').replace(/\u0000/g, ''));
}

/** @returns `text` cut to at most `max` Unicode code points (never splits a surrogate pair) */
export function cutToCodePoints(text: string, max: number): string {
  const points = [...text];
  return points.length <= max ? text : points.slice(0, max).join('');
}

/** Bodies an inbound SMS must not be when it is meant to change no opt-out: a keyword alone, with blanks around. */
const KEYWORD_SHAPE = /^[A-Za-z]{2,11}$/;
const OPT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', 'START', 'YES', 'UNSTOP']);

/** @returns 'opt_out', 'opt_in' or null: what an inbound SMS/MMS body asks for (README, Opt-outs) */
export function keywordOf(body: string): 'opt_out' | 'opt_in' | null {
  const word = body.trim();
  if (!KEYWORD_SHAPE.test(word) || !OPT_KEYWORDS.has(word.toUpperCase())) return null;
  return ['START', 'YES', 'UNSTOP'].includes(word.toUpperCase()) ? 'opt_in' : 'opt_out';
}

/** Long but valid text: a random unit repeated up to `maxChars` code points in all. */
function longTextArb(maxChars: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.oneof(fc.constantFrom('x', 'é', '😀', 'Ж', '€', 'ab c\n'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 5 })), fc.integer({ min: 1, max: maxChars }))
    .map(([unit, n]) => cutToCodePoints(unit.repeat(Math.ceil(n / Math.max(1, [...unit].length))), n))
    .filter((s) => s.length > 0 && !s.includes('\u0000'));
}

/** A valid SMS body: 1..1,600 code points, not blank, no NUL, never an opt-out/opt-in keyword. */
export const smsTextArb: fc.Arbitrary<string> = fc
  .oneof({ weight: 8, arbitrary: unicodeTextArb() }, { weight: 1, arbitrary: longTextArb(1600) }, { weight: 1, arbitrary: fc.constantFrom('x'.repeat(1600), '😀'.repeat(1600), 'Hello!') })
  .map((s) => cutToCodePoints(s, 1600))
  .filter((s) => s.trim() !== '' && keywordOf(s) === null);

/** A valid MMS body: as SMS, but it may be empty or blank. */
export const mmsTextArb: fc.Arbitrary<string> = fc.oneof({ weight: 5, arbitrary: smsTextArb }, { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n') });

/** A valid email body (text or HTML): not blank, no NUL, up to ~100 KB, now and then close to the 1 MB limit. */
export const emailTextArb: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 12, arbitrary: unicodeTextArb() },
    { weight: 4, arbitrary: unicodeTextArb(10).map((s) => `<html><body><p>${s}</p><b>bold</b></body></html>`) },
    { weight: 2, arbitrary: longTextArb(100_000) },
    { weight: 1, arbitrary: fc.integer({ min: 999_000, max: 1_000_000 }).map((n) => 'y'.repeat(n)) },
  )
  .filter((s) => s.trim() !== '');

// ---------------------------------------------------------------------------
// Attachments, timestamps, keys
// ---------------------------------------------------------------------------

const labelArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

/** An http(s) URL the attachment rule accepts: host name or IPv4, optional port, path, query and fragment. */
export const attachmentUrlArb: fc.Arbitrary<string> = fc
  .record({
    scheme: fc.constantFrom('http', 'https', 'HTTPS'),
    host: fc.oneof(
      fc.tuple(fc.array(labelArb, { minLength: 1, maxLength: 3 }), fc.constantFrom('com', 'org', 'io', 'example', 'co.uk')).map(([l, tld]) => [...l, tld].join('.')),
      fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((p) => p.join('.')),
    ),
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    path: fc.array(fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/), { maxLength: 4 }),
    query: fc.option(fc.stringMatching(/^[a-z]{1,5}=[A-Za-z0-9%]{0,8}$/), { nil: undefined }),
  })
  .map(({ scheme, host, port, path, query }) => `${scheme}://${host}${port ? `:${port}` : ''}/${path.join('/')}${query ? `?${query}` : ''}`);

/** 1..10 attachment URLs (MMS). */
export const mmsAttachmentsArb = fc.array(attachmentUrlArb, { minLength: 1, maxLength: 10 });
/** 0..10 attachment URLs (email). */
export const emailAttachmentsArb = fc.array(attachmentUrlArb, { maxLength: 10 });

/** A timestamp as sent, and the instant (ms) it names. */
export interface TimestampCase {
  input: string;
  instant: number;
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/**
 * An ISO 8601 date-time with a zone (`Z` or an offset, with or without its colon;
 * seconds and 0..9 fraction digits optional; `T`/`Z` in either case), naming an
 * instant between year 2 and `maxInstant`.
 * @param maxInstant latest instant, ms since the epoch (client sends: not in the future)
 */
export function timestampArb(maxInstant: () => number): fc.Arbitrary<TimestampCase> {
  return fc
    .record({
      at: fc.integer({ min: Date.UTC(2, 0, 1), max: maxInstant() }),
      offsetMinutes: fc.oneof(fc.constant(0), fc.integer({ min: -14 * 4, max: 14 * 4 }).map((q) => q * 15), fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 })),
      zulu: fc.boolean(),
      colon: fc.boolean(),
      precision: fc.constantFrom('minutes', 'seconds', 'fraction'),
      fractionDigits: fc.integer({ min: 1, max: 9 }),
      lower: fc.boolean(),
    })
    .map(({ at, offsetMinutes, zulu, colon, precision, fractionDigits, lower }) => {
      const offset = zulu ? 0 : offsetMinutes;
      // Drop what the text will not carry, so that the instant is exactly what it names.
      const unit = precision === 'minutes' ? 60_000 : precision === 'seconds' ? 1000 : fractionDigits >= 3 ? 1 : 10 ** (3 - fractionDigits);
      const instant = Math.floor(at / unit) * unit;
      const local = new Date(instant + offset * 60_000);
      let text = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
      if (precision !== 'minutes') text += `:${pad(local.getUTCSeconds())}`;
      if (precision === 'fraction') text += `.${pad(local.getUTCMilliseconds(), 3).padEnd(fractionDigits, '0').slice(0, fractionDigits)}`;
      text += zulu ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(offset) / 60))}${colon ? ':' : ''}${pad(Math.abs(offset) % 60)}`;
      if (lower) text = text.toLowerCase();
      return { input: text, instant };
    })
    .filter(({ instant }) => instant <= maxInstant());
}

/** Printable ASCII without the double quote: the characters of a bare Idempotency-Key (any, but it must not start with `"`). */
const keyCharArb = fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x22).map((c) => String.fromCharCode(c));

/** An Idempotency-Key as a client sends it (bare, or as an RFC 8941 string), and the key it names. */
export interface IdempotencyKeyCase {
  header: string;
  key: string;
}

/** A valid Idempotency-Key: 1..255 printable ASCII characters, inner spaces allowed; bare (3 in 4) or quoted. */
export const idempotencyKeyArb: fc.Arbitrary<IdempotencyKeyCase> = fc
  .oneof(
    { weight: 3, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.tuple(keyCharArb, fc.string({ unit: fc.oneof(keyCharArb, fc.constant(' ')), maxLength: 60 }), keyCharArb).map(([a, b, c]) => `${a}${b}${c}`) },
    { weight: 1, arbitrary: fc.string({ unit: keyCharArb, minLength: 200, maxLength: 255 }) },
  )
  .chain((key) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({ header: key, key }) },
      // RFC 8941 sf-string: any printable ASCII, with `"` and `\` escaped.
      { weight: 1, arbitrary: fc.constant({ header: `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`, key }) },
    ),
  )
  .filter(({ key }) => key.length <= 255);

/** A provider's message id: 1..255 UTF-16 units of Unicode text without NUL or lone surrogates. */
export const providerIdArb: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: fc.uuid().map((u) => `SM${u.replace(/-/g, '')}`) },
    { weight: 2, arbitrary: unicodeTextArb(8) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 200, maxLength: 255 }) },
  )
  .map((s) => (s.length > 255 ? [...s].reduce((out, c) => (out.length + c.length <= 255 ? out + c : out), '') : s))
  .filter((s) => s.length > 0);

// ---------------------------------------------------------------------------
// Malformed values
// ---------------------------------------------------------------------------

/** Keys that reach an object's prototype when a body is merged; the body parser refuses them at any depth. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Strings that are odd as values: lone surrogates, NUL, RTL, emoji, combining marks, digits, huge. */
export const oddStringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\uD800', 'x\uDC00y', '\uDBFF\uDBFF', '', ' ', '123', '-1', '1e400', 'null', 'true', '[]', '{}') },
  { weight: 3, arbitrary: unicodeTextArb(6) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '1', '😀', '\u0301', '\uD800', 'é'), fc.integer({ min: 1_000, max: 100_000 })).map(([u, n]) => u.repeat(n)) },
);

/** Any JSON value, nested a few levels, with odd strings and keys (`__proto__` and the like now and then). */
export const junkJsonArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 2 ** 53 + 1, -(2 ** 63), 1e308, 5e-324),
    oddStringArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof({ weight: 6, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 3, arbitrary: oddStringArb.filter((s) => s.length < 20) }, { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) }),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;

/** A value of the wrong JSON type for a string field (numbers as numbers, lists, objects, booleans). */
export const notAStringArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant([]),
  fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 3 }),
  fc.constant({}),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { minKeys: 1, maxKeys: 2 }),
);

/** Text that is not JSON (or not all of it): cut off, trailing garbage, JavaScript literals, comments, single quotes. */
export function invalidJsonTextArb(validText: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 1, max: Math.max(1, validText.length - 1) }).map((n) => validText.slice(0, n)),
    fc.constantFrom(`${validText}}`, `${validText},`, `${validText} x`, `{${validText}`, validText.replace(/"/g, "'"), validText.replace(/:/, '=')),
    fc.constantFrom('{', '}', '{"a":}', '{"a" 1}', '{a:1}', "{'a':1}", '[1,]', '{"a":1,}', 'NaN', 'Infinity', '{"a":NaN}', '{"a":undefined}', '{"a":1}/*c*/', '\u0000', 'nul', 'tru', '"abc', '{"a":"\\x41"}', '{"a":"\\u12"}', '{"a":"\u0001"}'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 50 }).map((s) => `{${s}`),
  ).filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  });
}

/** Content-Types a JSON body is refused under (415): not JSON, or JSON in a charset the parser does not take. */
export const wrongContentTypeArb = fc.constantFrom(
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/jsonx',
  'application/octet-stream',
  'application/json; charset=latin1',
  'application/json; charset=ascii',
  'application/json; charset=shift_jis',
  'json',
  '*/*',
);

/** Path ids that name no resource or are no id at all (negative, huge, non-numeric, NUL, lone %, other digits), percent-encoded where needed. */
export const badPathIdArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '-1', '00', '1.5', '1e3', '0x10', '+1', '%201', '1%20', 'abc', 'null', 'undefined', 'NaN', 'Infinity', '%00', '%', '%ZZ', '%E0%A4%A', '%F0%9F%98%80', '%D9%A1%D9%A2', '1%00', '%20', '%2F', '..', '9007199254740993', '99999999999999999999999999', '18446744073709551616', '-9223372036854775808', '1'.repeat(400)),
  fc.integer({ min: -(2 ** 31), max: -1 }).map(String),
  fc.bigInt({ min: 2n ** 40n, max: 2n ** 70n }).map(String),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.string({ maxLength: 8 }).map((s) => encodeURIComponent(s)).filter((s) => s.length > 0),
);

/** Random query strings: known and unknown names, odd values, raw `%`, repeated names, empty values. */
export function randomQueryArb(names: readonly string[]): fc.Arbitrary<string> {
  const value = fc.oneof(
    fc.integer({ min: -5, max: 200 }).map(String),
    fc.constantFrom('', '0', '-1', '1.5', '1e2', '01', '+1', '999999999', '9999999999', '%', '%00', '%ZZ', '%ED%A0%80', '%C0%80', '%FF', 'abc', 'null', 'true', '[]', '1,2', 'queued', 'FAILED', 'sms', 'email', 'inbound'),
    oddStringArb.filter((s) => s.length < 200).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, 'x'))),
    fc.string({ maxLength: 10 }).map(encodeURIComponent),
  );
  const name = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom('page[]', 'per_page[a]', '__proto__', 'constructor', 'x', '%', '') }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map(encodeURIComponent) });
  return fc.array(fc.tuple(name, value, fc.boolean()), { maxLength: 6 }).map((pairs) => pairs.map(([n, v, bare]) => (bare && v === '' ? n : `${n}=${v}`)).join('&'));
}

// ---------------------------------------------------------------------------
// Query parameters of the lists
// ---------------------------------------------------------------------------

/** `page` and `per_page` as a client may send them: absent, or valid (leading zeros too; `page` past the last page, up to 9 digits). */
export const pageParamsArb = fc.record({
  page: fc.option(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: 31, max: 999_999_999 }) }), { nil: undefined }),
  per_page: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  zeros: fc.constantFrom('', '', '0', '00'),
});

/** Values `page` must refuse (422): zero, negative, not an integer, more than 9 digits, empty. */
export const badPageArb = fc.constantFrom('0', '-1', '00', 'abc', '1.5', '1e2', '', '+1', '%201', '0x1', '9999999999', '1%00', 'NaN', 'Infinity', '%EF%BC%91');
/** Values `per_page` must refuse (422): 0, over 100, negative, not an integer. */
export const badPerPageArb = fc.constantFrom('0', '101', '1000', '-5', 'x', '1.0', '', '50.5', '999999999', '%2050');
/** Values an id filter (`conversation_id`) must refuse (422). */
export const badIdFilterArb = fc.constantFrom('0', '-1', 'abc', '1.5', '', '12345678901234567', '9007199254740993', '1e3', '%00', '0x10');
/** Unknown query parameters (ignored by every list). */
export const unknownParamsArb = fc.dictionary(fc.stringMatching(/^x_[a-z]{1,5}$/), fc.stringMatching(/^[A-Za-z0-9]{0,8}$/), { maxKeys: 2 });
