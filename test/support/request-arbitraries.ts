import fc from 'fast-check';
import {
  attachmentUrlArb,
  emailArb,
  emailAttachmentsArb,
  emailTextArb,
  idempotencyKeyArb,
  invalidJsonTextArb,
  junkJsonArb,
  mmsAttachmentsArb,
  mmsTextArb,
  notAStringArb,
  oddStringArb,
  phoneArb,
  PROTO_KEYS,
  providerIdArb,
  smsTextArb,
  timestampArb,
  wrongContentTypeArb,
  type IdempotencyKeyCase,
} from './arbitraries';
import { describeRequest, printable, type RequestSpec } from './property-harness';

/**
 * Request bodies for the property-based e2e suite: valid bodies of each POST endpoint
 * with what the service must store, and malformed requests that every endpoint must
 * refuse with a 4xx problem and without storing anything.
 */

/** Largest request body the app takes (BODY_LIMIT's default, 2mb as body-parser counts it). */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/** What a valid message body must be stored as. */
export interface ExpectedMessage {
  type: 'sms' | 'mms' | 'email';
  from: string;
  to: string;
  body: string;
  attachments: string[];
  /** The instant of `timestamp`, ms; undefined when the body had none (now). */
  timestamp?: number;
}

/** A valid request body and the message it must store. */
export interface MessageCase {
  body: Record<string, unknown>;
  expected: ExpectedMessage;
}

const summary = (c: MessageCase) => {
  const text = JSON.stringify(c.body);
  return text.length > 400 ? `${text.slice(0, 400)}... (${text.length} chars)` : text;
};

/** Client sends must not be more than 5 minutes ahead; generate up to a minute ago, so the clock cannot catch up. */
const pastTimestampArb = fc.option(timestampArb(() => Date.now() - 60_000), { nil: undefined, freq: 2 });
/** Webhooks take any time, also in the future (the provider's clock). */
const anyTimestampArb = fc.option(timestampArb(() => Date.UTC(9998, 11, 31)), { nil: undefined, freq: 2 });

/** The content fields of an SMS or MMS: type, body and attachments (sms: none, as absent, null or []). */
function phoneContentArb(bodyOf: (type: 'sms' | 'mms') => fc.Arbitrary<string>) {
  return fc.constantFrom('sms' as const, 'mms' as const).chain((type) =>
    fc.record({
      type: fc.constant(type),
      body: bodyOf(type),
      attachments: type === 'mms' ? mmsAttachmentsArb.map((a) => ({ sent: a as string[] | null | undefined, stored: a })) : fc.constantFrom<{ sent: string[] | null | undefined; stored: string[] }>({ sent: undefined, stored: [] }, { sent: null, stored: [] }, { sent: [], stored: [] }),
    }),
  );
}

/** Puts the optional fields on a body only when they have a value (absent and present are different requests). */
function withOptional(body: Record<string, unknown>, optional: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) body[k] = v;
  return body;
}

/** A valid body of POST /api/messages/sms (sms or mms). */
export const sendSmsCaseArb: fc.Arbitrary<MessageCase> = fc
  .record({ from: phoneArb, to: phoneArb, content: phoneContentArb((type) => (type === 'sms' ? smsTextArb : mmsTextArb)), timestamp: pastTimestampArb })
  .map(({ from, to, content, timestamp }) =>
    printable(
      {
        body: withOptional({ from: from.input, to: to.input, type: content.type, body: content.body }, { attachments: content.attachments.sent, timestamp: timestamp?.input }),
        expected: { type: content.type, from: from.e164, to: to.e164, body: content.body, attachments: content.attachments.stored, timestamp: timestamp?.instant },
      },
      summary,
    ),
  );

/** Attachments of an email: absent, null or 0..10 URLs. */
const emailAttachmentsCaseArb = fc.oneof(
  fc.constantFrom<{ sent: string[] | null | undefined; stored: string[] }>({ sent: undefined, stored: [] }, { sent: null, stored: [] }),
  emailAttachmentsArb.map((a) => ({ sent: a as string[] | null | undefined, stored: a })),
);

/** A valid body of POST /api/messages/email. */
export const sendEmailCaseArb: fc.Arbitrary<MessageCase> = fc
  .record({ from: emailArb, to: emailArb, body: emailTextArb, attachments: emailAttachmentsCaseArb, timestamp: pastTimestampArb })
  .map(({ from, to, body, attachments, timestamp }) =>
    printable(
      {
        body: withOptional({ from: from.input, to: to.input, body }, { attachments: attachments.sent, timestamp: timestamp?.input }),
        expected: { type: 'email' as const, from: from.address, to: to.address, body, attachments: attachments.stored, timestamp: timestamp?.instant },
      },
      summary,
    ),
  );

/** A valid body of POST /messages/send: any type, the sender in `from`, `from_` or both (equal). */
export const sendAnyCaseArb: fc.Arbitrary<MessageCase> = fc
  .tuple(fc.oneof({ weight: 2, arbitrary: sendSmsCaseArb }, { weight: 1, arbitrary: sendEmailCaseArb }), fc.constantFrom('from', 'from_', 'both'))
  .map(([c, sender]) => {
    const { from, ...rest } = c.body;
    const body: Record<string, unknown> = { ...rest, type: c.expected.type };
    if (sender !== 'from_') body.from = from;
    if (sender !== 'from') body.from_ = from;
    return printable({ body, expected: c.expected }, summary);
  });

/** Every field a webhook body knows. */
const KNOWN_WEBHOOK_FIELDS = new Set(['from', 'to', 'type', 'body', 'attachments', 'timestamp', 'messaging_provider_id', 'xillio_id', 'provider_message_id', 'status', 'error_code', 'error_message', 'provider']);

/**
 * Fields a provider adds that we do not know (webhooks ignore them), without what the body
 * parser refuses anywhere in a body: prototype keys and NUL characters (keys or values).
 */
const extraFieldsArb = fc.dictionary(
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => !KNOWN_WEBHOOK_FIELDS.has(k) && !(PROTO_KEYS as readonly string[]).includes(k) && !k.includes('\u0000')),
  junkJsonArb.filter((v) => {
    const text = JSON.stringify(v ?? null);
    return !text.includes('"__proto__"') && !/"(constructor|prototype)"\s*:/.test(text) && !text.includes('\\u0000');
  }),
  { maxKeys: 3 },
);

/** An opt-out or opt-in keyword as a person types it: any case, blanks around. */
export const keywordBodyArb = fc
  .tuple(fc.constantFrom('STOP', 'stop', 'Stop', 'StOpAlL', 'unsubscribe', 'CANCEL', 'end', 'Quit', 'revoke', 'OPTOUT', 'START', 'start', 'Yes', 'unstop'), fc.constantFrom('', ' ', '\n', '\t '), fc.constantFrom('', ' ', '\r\n'))
  .map(([word, before, after]) => `${before}${word}${after}`);

/** An inbound SMS/MMS webhook body; the body is now and then an opt-out/opt-in keyword. */
export const inboundSmsCaseArb = fc
  .record({
    from: phoneArb,
    to: phoneArb,
    id: providerIdArb,
    content: phoneContentArb((type) => fc.oneof({ weight: 6, arbitrary: type === 'sms' ? smsTextArb : mmsTextArb }, { weight: 1, arbitrary: keywordBodyArb })),
    timestamp: anyTimestampArb,
    extra: extraFieldsArb,
  })
  .map(({ from, to, id, content, timestamp, extra }) =>
    printable(
      {
        body: withOptional({ ...extra, from: from.input, to: to.input, type: content.type, messaging_provider_id: id, body: content.body }, { attachments: content.attachments.sent, timestamp: timestamp?.input }),
        expected: { type: content.type, from: from.e164, to: to.e164, body: content.body, attachments: content.attachments.stored, timestamp: timestamp?.instant },
        providerId: id,
      },
      summary,
    ),
  );

/** An inbound email webhook body. */
export const inboundEmailCaseArb = fc
  .record({ from: emailArb, to: emailArb, id: providerIdArb, body: emailTextArb, attachments: emailAttachmentsCaseArb, timestamp: anyTimestampArb, extra: extraFieldsArb })
  .map(({ from, to, id, body, attachments, timestamp, extra }) =>
    printable(
      {
        body: withOptional({ ...extra, from: from.input, to: to.input, xillio_id: id, body }, { attachments: attachments.sent, timestamp: timestamp?.input }),
        expected: { type: 'email' as const, from: from.address, to: to.address, body, attachments: attachments.stored, timestamp: timestamp?.instant },
        providerId: id,
      },
      summary,
    ),
  );

/** The optional fields of a delivery receipt, each absent, null or a valid value. */
export const receiptFieldsArb = fc.record({
  status: fc.constantFrom('delivered' as const, 'undelivered' as const, 'failed' as const),
  error_code: fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(''), fc.string({ unit: 'grapheme', maxLength: 16 }).filter((s) => s.length <= 64), fc.constantFrom('30003', '30005', 'E_UNREACHABLE')),
  error_message: fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(''), fc.string({ unit: 'grapheme', maxLength: 200 }).filter((s) => s.length <= 2000)),
  timestamp: fc.oneof(fc.constant(undefined), fc.constant(null), timestampArb(() => Date.UTC(9998, 0, 1)).map((c) => c.input)),
  provider: fc.constantFrom('absent', 'null', 'named'),
  extra: extraFieldsArb,
});

// ---------------------------------------------------------------------------
// Malformed requests
// ---------------------------------------------------------------------------

/** How a POST endpoint's body is validated: which fields exist and what makes a body invalid. */
export interface BodyRules {
  /** Route, e.g. `/api/messages/sms`. */
  path: string;
  /** Client endpoints refuse unknown fields (and take an Idempotency-Key); webhooks ignore them. */
  client: boolean;
  /** Mutations each of which makes any body invalid, whatever the other fields are. */
  breaks: fc.Arbitrary<Mutation>[];
  /** Fields a noise mutation may set to junk (the break, applied last, decides the outcome). */
  fields: string[];
}

/** A change of a body, with a name for the statistics. */
export interface Mutation {
  name: string;
  apply(body: Record<string, unknown>): void;
}

const mutation = (name: string, apply: (body: Record<string, unknown>) => void): Mutation => ({ name, apply });

/** Strings that are neither a phone number nor an email address. */
const notAnAddressArb = fc.oneof(
  fc.constantFrom('', ' ', 'abc', '@', 'a@', '@b.c', '+', '12', '+1', '+1 (201) 555-01234567', 'ann@', 'ann@example', 'mailto:', '<>', 'Ann <>', '++12015550123', '+0 201 555 0123', '1'.repeat(40)),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => '9'.repeat(n)),
  oddStringArb.filter((s) => !/^[\d\s().+\-\/]+$/.test(s) && !s.includes('@')),
);

/** Strings no text field may hold: NUL characters or unpaired surrogates. */
const notPlainTextArb = fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\uD800', '\uDFFF', '\uDBFF\u0041', '\u0041\uDC00'), fc.string({ maxLength: 10 })).map(([a, bad, b]) => `${a}${bad}${b}`);

/** Attachment values invalid for any type: not a list, bad items, or more than 10. */
const badAttachmentsArb = fc.oneof(
  fc.constantFrom<unknown>('https://example.com/a.jpg', 1, true, {}, { 0: 'https://example.com/a.jpg' }, [1], [null], [[]], ['ftp://example.com/a'], ['javascript:alert(1)'], ['not a url'], ['http://'], ['//example.com/a'], ['http://exa mple.com/a'], ['http://example.com/\u0000'], ['http://example.com/\uD800'], ['http://example.com/a\nb'], ['mailto:ann@example.com'], ['data:image/png;base64,AAAA']),
  fc.array(attachmentUrlArb, { minLength: 11, maxLength: 30 }),
  fc.tuple(fc.array(attachmentUrlArb, { maxLength: 5 }), oddStringArb.filter((s) => !/^https?:\/\//i.test(s))).map(([ok, bad]) => [...ok, bad]),
);

/** Timestamps refused by every endpoint (null too: the field may be absent, not null). */
const badTimestampArb = fc.oneof(
  fc.constantFrom<unknown>(null, '', 'now', 'yesterday', '2024-11-01', '2024-11-01T14:00:00', '2024-11-01 14:00:00Z', '2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-11-01T25:00:00Z', '2024-11-01T14:60:00Z', '2024-11-01T14:00:00+24:00', '+002024-11-01T14:00:00Z', '2024-11-01T14:00:00.1234567890Z', '20241101T140000Z', 1730469600, 1730469600000, {}, [], ['2024-11-01T14:00:00Z'], true),
  oddStringArb,
);

/** A client timestamp a day or more ahead (refused: more than 5 minutes in the future). */
const futureTimestampArb = fc.integer({ min: 1, max: 5000 }).map((days) => new Date(Date.now() + days * 86_400_000).toISOString());

/** Bodies over the SMS/MMS limit of 1,600 code points. */
const tooLongSmsBodyArb = fc.tuple(fc.constantFrom('x', '😀', 'Ж', 'e\u0301'), fc.integer({ min: 1601, max: 100_000 })).map(([unit, n]) => unit.repeat(Math.ceil(n / [...unit].length)));

/** Bodies that are empty after trimming (sms and email need text). */
const blankBodyArb = fc.constantFrom('', ' ', '\n\t ', '\u00A0', '\u3000', '\uFEFF', '\r\n');

const required = (field: string) => mutation(`missing ${field}`, (b) => delete b[field]);
const setTo = (name: string, field: string, value: fc.Arbitrary<unknown>) => value.map((v) => mutation(name, (b) => (b[field] = v)));

/** Breaks that apply to every message body (client or webhook): content fields. */
function contentBreaks(opts: { phone: boolean; email: boolean; typeField: boolean; client: boolean }): fc.Arbitrary<Mutation>[] {
  const breaks: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom('from', 'to', 'body').map(required),
    fc.constantFrom('from', 'to', 'body').chain((f) => setTo(`${f} not a string`, f, notAStringArb.filter((v) => v !== null))),
    fc.constantFrom('from', 'to').chain((f) => setTo(`${f} not an address`, f, notAnAddressArb)),
    fc.constantFrom('from', 'to', 'body').chain((f) => setTo(`${f} NUL/surrogate`, f, notPlainTextArb)),
    setTo('bad attachments', 'attachments', badAttachmentsArb),
    setTo('bad timestamp', 'timestamp', badTimestampArb),
  ];
  if (opts.client) breaks.push(setTo('future timestamp', 'timestamp', futureTimestampArb));
  if (opts.phone) {
    breaks.push(
      fc.constantFrom('sms', 'mms').chain((type) => tooLongSmsBodyArb.map((body) => mutation('sms body too long', (b) => Object.assign(b, { type, body })))),
      blankBodyArb.map((body) => mutation('blank sms body', (b) => Object.assign(b, { type: 'sms', body }))),
      fc.array(attachmentUrlArb, { minLength: 1, maxLength: 10 }).map((attachments) => mutation('sms with attachments', (b) => Object.assign(b, { type: 'sms', attachments }))),
      fc.constantFrom<unknown>([], null).map((attachments) => mutation('mms without attachments', (b) => Object.assign(b, { type: 'mms', attachments }))),
    );
  }
  if (opts.email && !opts.phone) {
    breaks.push(
      blankBodyArb.map((body) => mutation('blank email body', (b) => (b.body = body))),
      fc.integer({ min: 1_000_001, max: 1_050_000 }).map((n) => mutation('email body over 1 MB', (b) => (b.body = 'z'.repeat(n)))),
    );
  }
  if (opts.typeField) {
    const allowed = opts.email ? ['sms', 'mms', 'email'] : ['sms', 'mms'];
    breaks.push(
      fc.constant(required('type')),
      setTo('bad type', 'type', fc.oneof(fc.constantFrom<unknown>('fax', 'SMS', 'Email', ' sms', '', 'email', null, 1, ['sms']), oddStringArb).filter((t) => !allowed.includes(t as string))),
    );
  }
  return breaks;
}

/** Breaks that only client endpoints have: unknown fields. */
const unknownFieldBreak = fc
  .tuple(fc.oneof(fc.constantFrom('colour', 'From', 'TO', 'from ', 'bodyy', 'attachment', 'messaging_provider_id', 'id', 'status', 'subject', ''), fc.string({ minLength: 1, maxLength: 20 }), oddStringArb.filter((s) => s.length < 50)), junkJsonArb)
  .filter(([k]) => !['from', 'to', 'type', 'body', 'attachments', 'timestamp', 'from_'].includes(k) && !(PROTO_KEYS as readonly string[]).includes(k))
  .map(([k, v]) => mutation('unknown field', (b) => (b[k] = v)));

/** Rules of POST /api/messages/sms. */
export const SEND_SMS_RULES: BodyRules = {
  path: '/api/messages/sms',
  client: true,
  fields: ['from', 'to', 'type', 'body', 'attachments', 'timestamp'],
  breaks: [...contentBreaks({ phone: true, email: false, typeField: true, client: true }), unknownFieldBreak],
};

/** Rules of POST /api/messages/email. */
export const SEND_EMAIL_RULES: BodyRules = {
  path: '/api/messages/email',
  client: true,
  fields: ['from', 'to', 'body', 'attachments', 'timestamp'],
  breaks: [
    ...contentBreaks({ phone: false, email: true, typeField: false, client: true }),
    unknownFieldBreak,
    fc.constantFrom('email', 'sms').map((type) => mutation('type is unknown here', (b) => (b.type = type))),
  ],
};

/** Rules of POST /messages/send (`from` or `from_`). */
export const SEND_ANY_RULES: BodyRules = {
  path: '/messages/send',
  client: true,
  fields: ['from', 'from_', 'to', 'type', 'body', 'attachments', 'timestamp'],
  breaks: [
    ...contentBreaks({ phone: true, email: true, typeField: true, client: true }).slice(1), // `from` may be missing when from_ is there
    fc.constantFrom('to', 'body').map(required),
    fc.constant(mutation('missing from and from_', (b) => { delete b.from; delete b.from_; })),
    fc.tuple(phoneArb, phoneArb).filter(([a, b]) => a.input !== b.input).map(([a, c]) => mutation('from and from_ differ', (b) => Object.assign(b, { from: a.input, from_: c.input }))),
    setTo('from_ not a string', 'from_', notAStringArb.filter((v) => v !== null)),
    unknownFieldBreak,
  ],
};

const providerIdBreaks = (field: string): fc.Arbitrary<Mutation>[] => [
  fc.constant(required(field)),
  setTo(`${field} not a string`, field, notAStringArb),
  setTo(`${field} null`, field, fc.constant(null)),
  setTo(`${field} empty`, field, fc.constant('')),
  setTo(`${field} too long`, field, fc.integer({ min: 256, max: 100_000 }).map((n) => 'i'.repeat(n))),
  setTo(`${field} NUL/surrogate`, field, notPlainTextArb),
];

/** Rules of POST /api/webhooks/sms. */
export const WEBHOOK_SMS_RULES: BodyRules = {
  path: '/api/webhooks/sms',
  client: false,
  fields: ['from', 'to', 'type', 'body', 'attachments', 'timestamp', 'messaging_provider_id'],
  breaks: [...contentBreaks({ phone: true, email: false, typeField: true, client: false }), ...providerIdBreaks('messaging_provider_id')],
};

/** Rules of POST /api/webhooks/email. */
export const WEBHOOK_EMAIL_RULES: BodyRules = {
  path: '/api/webhooks/email',
  client: false,
  fields: ['from', 'to', 'body', 'attachments', 'timestamp', 'xillio_id'],
  breaks: [...contentBreaks({ phone: false, email: true, typeField: false, client: false }), ...providerIdBreaks('xillio_id')],
};

/** Rules of POST /api/webhooks/status. */
export const WEBHOOK_STATUS_RULES: BodyRules = {
  path: '/api/webhooks/status',
  client: false,
  fields: ['provider_message_id', 'status', 'error_code', 'error_message', 'timestamp', 'provider'],
  breaks: [
    ...providerIdBreaks('provider_message_id'),
    fc.constant(required('status')),
    setTo('bad status', 'status', fc.oneof(fc.constantFrom<unknown>('sent', 'queued', 'sending', 'received', 'DELIVERED', 'Delivered', ' delivered', '', null, 1, true, ['delivered'], {}), oddStringArb)),
    setTo('error_code too long', 'error_code', fc.integer({ min: 65, max: 5000 }).map((n) => 'c'.repeat(n))),
    setTo('error_message too long', 'error_message', fc.integer({ min: 2001, max: 100_000 }).map((n) => 'm'.repeat(n))),
    setTo('provider too long', 'provider', fc.integer({ min: 65, max: 1000 }).map((n) => 'p'.repeat(n))),
    setTo('provider empty', 'provider', fc.constant('')),
    fc.constantFrom('error_code', 'error_message', 'provider').chain((f) => setTo(`${f} not a string`, f, notAStringArb)),
    fc.constantFrom('error_code', 'error_message', 'provider').chain((f) => setTo(`${f} NUL/surrogate`, f, notPlainTextArb)),
    setTo('bad timestamp', 'timestamp', badTimestampArb.filter((v) => v !== null)),
  ],
};

/** A noise change: a field set to junk, deleted, or a junk field added (may or may not break the body). */
function noiseArb(rules: BodyRules): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...rules.fields), junkJsonArb).map(([f, v]) => mutation('noise', (b) => (b[f] = v))),
    fc.constantFrom(...rules.fields).map((f) => mutation('noise', (b) => delete b[f])),
    fc.tuple(fc.string({ maxLength: 10 }), junkJsonArb).map(([k, v]) => mutation('noise', (b) => Object.defineProperty(b, k, { value: v, enumerable: true, writable: true, configurable: true }))),
  );
}

/** Sets `key` as an own enumerable property (also `__proto__`, which plain assignment would not create). */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Puts a `__proto__`/`constructor`/`prototype` key at depth 0..5 of a body (the parser refuses it at any depth). */
const protoKeyBreak = fc
  .tuple(fc.constantFrom(...PROTO_KEYS), fc.integer({ min: 0, max: 5 }), junkJsonArb, fc.string({ minLength: 1, maxLength: 6 }))
  .map(([key, depth, value, wrapper]) =>
    mutation(`${key} key at depth ${depth}`, (b) => {
      let target: Record<string, unknown> = b;
      for (let i = 0; i < depth; i++) {
        const next: Record<string, unknown> = {};
        defineOwn(target, i === 0 ? `x${wrapper}` : wrapper, Array.isArray(value) && i % 2 ? [next] : next);
        target = next;
      }
      defineOwn(target, key, key === '__proto__' ? { polluted: true, value } : value);
    }),
  );

/** Nests a field 33..400 levels deep (the parser refuses more than 32). */
const deepNestingBreak = fc.tuple(fc.integer({ min: 33, max: 400 }), fc.boolean(), fc.constantFrom('body', 'attachments', 'deep')).map(([depth, arrays, field]) =>
  mutation(`nested ${depth} deep`, (b) => {
    let value: unknown = 'x';
    for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
    b[field] = value;
  }),
);

/** More values than a body may hold (10,000): a long list (up to 400,000 items) or an object of many keys, in any field. */
const tooManyValuesBreak = fc.oneof(
  fc.tuple(fc.integer({ min: 10_001, max: 400_000 }), fc.constantFrom<unknown>(1, 'x', null, [], 'ftp://x'), fc.constantFrom('attachments', 'body', 'to', 'junk')).map(([n, item, field]) =>
    mutation(`list of ${n} items in ${field}`, (b) => (b[field] = new Array(n).fill(item))),
  ),
  fc.tuple(fc.integer({ min: 10_001, max: 20_000 }), fc.boolean()).map(([n, nested]) =>
    mutation(`${n} keys${nested ? ' in a field' : ''}`, (b) => {
      const target: Record<string, unknown> = nested ? ((b.extra = {}) as Record<string, unknown>) : b;
      for (let i = 0; i < n; i++) target[`k${i}`] = i;
    }),
  ),
);

/** Invalid Idempotency-Key header values (400, checked before the body). Only values Node lets a client send. */
const badIdempotencyKeyArb = fc.oneof(
  fc.constantFrom<string | string[]>('', '   ', 'é', 'a\tb', '"unterminated', '"bad \\q escape"', '"a"b', '"', ['a', 'b'], ['same', 'same']),
  fc.integer({ min: 256, max: 2000 }).map((n) => 'k'.repeat(n)),
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 10 }),
);

/** Extra headers that must not change how a bad request is answered. */
function noiseHeadersArb(client: boolean): fc.Arbitrary<Record<string, string>> {
  return fc.record(
    {
      ...(client ? { 'Idempotency-Key': idempotencyKeyArb.map((k: IdempotencyKeyCase) => k.header) } : {}),
      Prefer: fc.constantFrom('wait=0', 'wait=abc', 'respond-async', 'wait=-1', 'wait'),
      'X-Forwarded-For': fc.constantFrom('1.2.3.4', 'garbage', '::1'),
      Accept: fc.constantFrom('text/html', 'application/xml', '*/*'),
    },
    { requiredKeys: [] },
  );
}

/**
 * Malformed requests to a POST endpoint, each of which must be refused (4xx) and store
 * nothing: a valid body broken by a mutation (after some noise); text that is not JSON;
 * JSON that is not an object; the body under a wrong Content-Type or none; a
 * `__proto__` key, nesting too deep or too many values (huge lists, objects of
 * thousands of keys); JSON numbers beyond a double (1e400) in place of
 * strings; an invalid Idempotency-Key (client endpoints); an empty body; and now and
 * then a body over the size limit.
 * @param validArb valid bodies of the endpoint, the starting point of mutations
 * @param pathArb the path to post to (default: rules.path); the retry endpoint passes its own
 */
export function malformedPostArb(rules: BodyRules, validArb: fc.Arbitrary<Record<string, unknown>>, pathArb: fc.Arbitrary<string> = fc.constant(rules.path)): fc.Arbitrary<RequestSpec> {
  const clone = (b: Record<string, unknown>) => JSON.parse(JSON.stringify(b)) as Record<string, unknown>;
  const make = (label: string, path: string, headers: Record<string, string | string[]>, body: Pick<RequestSpec, 'json' | 'raw'>): RequestSpec =>
    printable<RequestSpec>({ method: 'POST', path, headers, label, ...body }, describeRequest);
  const headersArb = noiseHeadersArb(rules.client);
  const breaks = fc.oneof(
    ...rules.breaks.map((arbitrary) => ({ weight: 2, arbitrary })),
    { weight: 2, arbitrary: protoKeyBreak },
    { weight: 2, arbitrary: deepNestingBreak },
    { weight: 1, arbitrary: tooManyValuesBreak },
  );
  const variants: Array<{ weight: number; arbitrary: fc.Arbitrary<RequestSpec> }> = [
    {
      weight: 140,
      arbitrary: fc.tuple(pathArb, headersArb, validArb, fc.array(noiseArb(rules), { maxLength: 3 }), fc.array(breaks, { minLength: 1, maxLength: 2 })).map(([path, headers, valid, noise, broken]) => {
        const body = clone(valid);
        for (const m of [...noise, ...broken]) m.apply(body);
        return make(broken.map((m) => m.name).join(' + '), path, headers, { json: body });
      }),
    },
    {
      weight: 20,
      arbitrary: fc.tuple(pathArb, headersArb, validArb).chain(([path, headers, valid]) => invalidJsonTextArb(JSON.stringify(valid)).map((text) => make('invalid JSON', path, headers, { raw: { text, contentType: 'application/json' } }))),
    },
    {
      weight: 20,
      arbitrary: fc.tuple(pathArb, headersArb, validArb, fc.constantFrom('array of body', 'array', 'number', 'string', 'null', 'true', 'empty array'), junkJsonArb).map(([path, headers, valid, kind, junk]) => {
        const json = { 'array of body': [valid], array: [junk, junk], number: 42, string: JSON.stringify(valid), null: null, true: true, 'empty array': [] }[kind];
        return make(`JSON ${kind}`, path, headers, { raw: { text: JSON.stringify(json), contentType: 'application/json' } });
      }),
    },
    {
      weight: 20,
      arbitrary: fc.tuple(pathArb, headersArb, validArb, fc.option(wrongContentTypeArb, { nil: undefined, freq: 5 })).map(([path, headers, valid, contentType]) =>
        make(`Content-Type ${contentType ?? 'none'}`, path, headers, { raw: { text: JSON.stringify(valid), contentType } }),
      ),
    },
    {
      weight: 10,
      arbitrary: fc.tuple(pathArb, headersArb, validArb, fc.constantFrom(...rules.fields), fc.constantFrom('1e400', '-1e400', '1E+309', '123456789e999')).map(([path, headers, valid, field, number]) => {
        const text = JSON.stringify({ ...valid, [field]: '@@NUMBER@@' }).replace('"@@NUMBER@@"', number);
        // Client endpoints: also as an unknown field, with an Idempotency-Key (the key's fingerprint reads the whole body).
        const extra = rules.client ? text.replace(/^\{/, `{"n":${number},`) : text;
        return make(`number ${number} in ${field}`, path, headers, { raw: { text: extra, contentType: 'application/json' } });
      }),
    },
    {
      // UTF-8 bytes declared as another charset the parser takes: they decode to text that is not JSON (400).
      weight: 5,
      arbitrary: fc.tuple(pathArb, headersArb, validArb, fc.constantFrom('utf-16le', 'utf-16be', 'utf-32')).map(([path, headers, valid, charset]) =>
        make(`UTF-8 sent as ${charset}`, path, headers, { raw: { text: JSON.stringify(valid), contentType: `application/json; charset=${charset}` } }),
      ),
    },
    {
      weight: 10,
      arbitrary: fc.tuple(pathArb, headersArb, fc.constantFrom('', ' ', '\n')).map(([path, headers, text]) => make('empty body', path, headers, { raw: { text, contentType: 'application/json' } })),
    },
  ];
  if (rules.client) {
    variants.push({
      weight: 20,
      arbitrary: fc.tuple(pathArb, validArb, badIdempotencyKeyArb).map(([path, valid, key]) => make('bad Idempotency-Key', path, { 'Idempotency-Key': key }, { json: valid })),
    });
  }
  variants.push({
    weight: 2,
    arbitrary: fc.tuple(pathArb, headersArb, fc.integer({ min: BODY_LIMIT_BYTES + 1, max: BODY_LIMIT_BYTES + 200_000 })).map(([path, headers, size]) =>
      make(`over the body limit (${size} bytes)`, path, headers, { raw: { text: `{"body":"${'b'.repeat(size - 11)}"}`, contentType: 'application/json' } }),
    ),
  });
  return fc.oneof(...variants);
}
