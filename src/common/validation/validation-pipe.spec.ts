import type { ArgumentMetadata } from '@nestjs/common';
import { ValidationError as ClassValidatorError } from 'class-validator';
import fc from 'fast-check';
import { SendEmailDto } from '../../messages/dto/send-email.dto';
import { SendMessageDto } from '../../messages/dto/send-message.dto';
import { SendSmsDto } from '../../messages/dto/send-sms.dto';
import { InboundSmsDto } from '../../webhooks/dto/inbound-sms.dto';
import { FieldError, ValidationError } from '../errors/app-error';
import { flattenValidationErrors, RequestValidationPipe } from './validation-pipe';

/** Builds a class-validator error node. */
function node(property: string, constraints?: Record<string, string>, children: ClassValidatorError[] = [], value?: unknown): ClassValidatorError {
  return Object.assign(new ClassValidatorError(), { property, constraints, children, value });
}

describe('flattenValidationErrors', () => {
  it('names top-level fields by their property', () => {
    expect(flattenValidationErrors([node('to', { isString: 'to must be a string' })])).toEqual([
      { field: 'to', message: 'to must be a string' },
    ]);
  });

  it('gives one error per broken constraint', () => {
    const errors = flattenValidationErrors([node('body', { isString: 'body must be a string', hasNoNul: 'must not contain NUL characters' })]);
    expect(errors).toEqual([
      { field: 'body', message: 'body must be a string' },
      { field: 'body', message: 'must not contain NUL characters' },
    ]);
  });

  it('joins nested properties with dots and array indexes with brackets', () => {
    const tree = [
      node('meta', undefined, [
        node('tags', undefined, [node('2', { isString: 'must be a string' })]),
        node('owner', { isEmail: 'must be an email' }),
      ]),
      node('items', undefined, [node('0', undefined, [node('url', { isUrl: 'must be a URL' })])]),
    ];
    expect(flattenValidationErrors(tree)).toEqual([
      { field: 'meta.tags[2]', message: 'must be a string' },
      { field: 'meta.owner', message: 'must be an email' },
      { field: 'items[0].url', message: 'must be a URL' },
    ]);
  });

  it('reports a field the DTO does not know as "is not a known field"', () => {
    expect(flattenValidationErrors([node('priority', { whitelistValidation: 'property priority should not exist' })])).toEqual([
      { field: 'priority', message: 'is not a known field' },
    ]);
  });

  it('expands a failed attachment list into one error per bad item', () => {
    const errors = flattenValidationErrors([
      node('attachments', { attachmentUrls: 'must hold at most 10 URLs' }, [], [123, 'https://example.com/ok.png', { url: 'x' }, '']),
    ]);
    expect(errors.map((e) => e.field)).toEqual(['attachments[0]', 'attachments[2]', 'attachments[3]']);
  });

  it('keeps the list-level message when every item is fine (too many) or the value is not a list', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `https://example.com/${i}.png`);
    expect(flattenValidationErrors([node('attachments', { attachmentUrls: 'must hold at most 10 URLs' }, [], eleven)])).toEqual([
      { field: 'attachments', message: 'must hold at most 10 URLs' },
    ]);
    expect(flattenValidationErrors([node('attachments', { attachmentUrls: 'must be a list of http(s) URLs' }, [], 'x')])).toEqual([
      { field: 'attachments', message: 'must be a list of http(s) URLs' },
    ]);
  });

  it('refuses a list longer than the limit for its length alone, without an error per item', () => {
    // A body of 900,000 bad items made 900,000 errors and overflowed the stack (500); found by test/properties.
    const many = new Array(900_000).fill(1);
    expect(flattenValidationErrors([node('attachments', { attachmentUrls: 'must hold at most 10 URLs' }, [], many)])).toEqual([
      { field: 'attachments', message: 'must hold at most 10 URLs' },
    ]);
    const elevenBad = new Array(11).fill('ftp://example.com/a');
    expect(flattenValidationErrors([node('attachments', { attachmentUrls: 'must hold at most 10 URLs' }, [], elevenBad)])).toEqual([
      { field: 'attachments', message: 'must hold at most 10 URLs' },
    ]);
  });

  it('returns nothing for no errors', () => {
    expect(flattenValidationErrors([])).toEqual([]);
  });

  it('property: a chain of properties and indexes becomes dotted/bracketed path', () => {
    const segment = fc.oneof(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), fc.nat(50).map(String));
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), fc.array(segment, { maxLength: 5 }), (first, rest) => {
        const path = [first, ...rest];
        let tree = node(path[path.length - 1], { c: 'bad' });
        for (let i = path.length - 2; i >= 0; i--) tree = node(path[i], undefined, [tree]);
        const expected = rest.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : `${acc}.${p}`), first);
        expect(flattenValidationErrors([tree])).toEqual([{ field: expected, message: 'bad' }]);
      }),
    );
  });
});

describe('RequestValidationPipe', () => {
  const client = new RequestValidationPipe(true);
  const webhook = new RequestValidationPipe(false);
  const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });
  const SMS = { from: '+12015550100', to: '+12015550123', type: 'sms', body: 'hi', attachments: [], timestamp: '2024-11-01T14:00:00Z' };

  /** Runs the pipe and returns the field errors it rejected the value with. */
  async function rejection(pipe: RequestValidationPipe, value: unknown, metatype: ArgumentMetadata['metatype']): Promise<FieldError[]> {
    const error = await pipe.transform(value, body(metatype)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors;
  }

  it.each([[[]], [[SMS]], [null], [undefined], ['hello'], [42], [true]])('rejects the body %p: not a JSON object', async (value) => {
    expect(await rejection(client, value, SendSmsDto)).toEqual([{ field: '$', message: expect.stringMatching(/JSON object/) }]);
    expect(await rejection(webhook, value, InboundSmsDto)).toEqual([{ field: '$', message: expect.any(String) }]);
  });

  it('passes a valid body through as a DTO instance', async () => {
    const dto = await client.transform({ ...SMS }, body(SendSmsDto));
    expect(dto).toBeInstanceOf(SendSmsDto);
    expect(dto).toMatchObject(SMS);
  });

  it('leaves non-body arguments alone', async () => {
    await expect(client.transform('12', { type: 'param', metatype: String, data: 'id' })).resolves.toBe('12');
  });

  it('rejects unknown fields on client endpoints and drops them on webhooks', async () => {
    expect(await rejection(client, { ...SMS, priority: 'high' }, SendSmsDto)).toEqual([{ field: 'priority', message: 'is not a known field' }]);
    const dto = (await webhook.transform({ ...SMS, messaging_provider_id: 'SM-1', carrier: 'x' }, body(InboundSmsDto))) as object;
    expect(dto).toBeInstanceOf(InboundSmsDto);
    expect(dto).not.toHaveProperty('carrier');
  });

  it('never converts types implicitly', async () => {
    const fields = (await rejection(client, { ...SMS, to: 12015550123, body: 42 }, SendSmsDto)).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['to', 'body']));
  });

  it('names each bad attachment item', async () => {
    const errors = await rejection(
      client,
      { from: 'a@example.com', to: 'b@example.com', body: 'x', attachments: [123, { url: 'x' }, ''] },
      SendEmailDto,
    );
    expect(errors.map((e) => e.field)).toEqual(['attachments[0]', 'attachments[1]', 'attachments[2]']);
  });

  it('rejects attachment URLs with NUL, control characters or unpaired surrogates', async () => {
    for (const url of ['https://example.com/\u0000', 'https://example.com/a\u0001b', 'https://example.com/\u007f', 'https://example.com/\ud800', 'https://example.com/\udc00']) {
      const errors = await rejection(client, { ...SMS, type: 'mms', attachments: [url] }, SendSmsDto);
      expect(errors.map((e) => e.field)).toEqual(['attachments[0]']);
    }
    await expect(client.transform({ ...SMS, type: 'mms', attachments: ['https://example.com/😀.png'] }, body(SendSmsDto))).resolves.toBeDefined();
  });

  it('rejects null where a value is required, and null timestamps, but allows null attachments', async () => {
    for (const field of ['to', 'body', 'timestamp', 'from', 'type']) {
      const errors = await rejection(client, { ...SMS, [field]: null }, SendSmsDto);
      expect(errors.map((e) => e.field)).toContain(field);
    }
    await expect(client.transform({ ...SMS, attachments: null }, body(SendSmsDto))).resolves.toBeDefined();
  });

  it.each([
    ['2024-11-01T14:00:00'],
    ['2024-11-01'],
    ['2024-02-30T14:00:00Z'],
    ['2023-02-29T14:00:00Z'],
    ['2024-04-31T14:00:00+02:00'],
    ['2024-00-10T14:00:00Z'],
    ['2024-11-00T14:00:00Z'],
    ['2024-11-01T25:00:00Z'],
    ['2024-11-01T14:00:00+25:00'],
  ])('rejects the timestamp %p', async (timestamp) => {
    expect((await rejection(client, { ...SMS, timestamp }, SendSmsDto)).map((e) => e.field)).toEqual(['timestamp']);
  });

  it.each([
    ['2024-02-29T14:00:00Z'],
    ['2000-02-29T00:00:00Z'],
    ['0004-02-29T00:00:00Z'],
    ['2024-12-31T23:59:59.999+14:00'],
    ['2024-11-01T14:00Z'],
    ['2024-11-01T14:00:00.123456789-0330'],
    ['2024-11-01t14:00:00z'],
  ])('accepts the timestamp %p', async (timestamp) => {
    await expect(client.transform({ ...SMS, timestamp }, body(SendSmsDto))).resolves.toBeDefined();
  });

  it('property: every real calendar day is accepted as a timestamp, every rolled-over one rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), async (y, m, d) => {
        const timestamp = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T12:00:00Z`;
        const daysInMonth = new Date(Date.UTC(2000, m, 0)).getUTCDate() - (m === 2 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 1 : 0);
        const result = await client.transform({ ...SMS, timestamp }, body(SendSmsDto)).then(
          () => 'ok',
          () => 'rejected',
        );
        expect(result).toBe(d <= daysInMonth ? 'ok' : 'rejected');
      }),
      { numRuns: 300 },
    );
  });

  describe('from / from_ on /messages/send', () => {
    const SEND = { to: '+12015550123', type: 'sms', body: 'hi' };

    it('accepts either spelling, or both when they agree', async () => {
      await expect(client.transform({ ...SEND, from_: '+11234567890' }, body(SendMessageDto))).resolves.toBeDefined();
      await expect(client.transform({ ...SEND, from: '+11234567890' }, body(SendMessageDto))).resolves.toBeDefined();
      await expect(client.transform({ ...SEND, from: '+11234567890', from_: '+11234567890' }, body(SendMessageDto))).resolves.toBeDefined();
    });

    it('names `from` when neither is given, or when from is null', async () => {
      expect((await rejection(client, SEND, SendMessageDto)).map((e) => e.field)).toEqual(['from']);
      expect((await rejection(client, { ...SEND, from: null, from_: '+11234567890' }, SendMessageDto)).map((e) => e.field)).toEqual(['from']);
    });

    it('names `from_` when it is null or not a string', async () => {
      expect((await rejection(client, { ...SEND, from_: null }, SendMessageDto)).map((e) => e.field)).toEqual(['from_']);
      expect((await rejection(client, { ...SEND, from_: 11234567890 }, SendMessageDto)).map((e) => e.field)).toEqual(['from_']);
    });
  });
});
