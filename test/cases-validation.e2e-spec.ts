import type { Response } from 'supertest';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Cases C8, C10 and C11 of /work/shared/cases/README.md, and the error contract of
 * design.md (Errors, Type rules): every rejected request is answered with
 * application/problem+json, never with a stack trace, and stores nothing.
 */

const A = '+12015550100';
const B = '+12015550123';
const SMS = { from: A, to: B, type: 'sms', body: 'hello', attachments: [], timestamp: '2024-11-01T14:00:00Z' };
const EMAIL = { from: 'team@example.com', to: 'ann@example.com', body: '<p>hello</p>', attachments: [], timestamp: '2024-11-01T14:00:00Z' };
const SEND = { to: B, type: 'sms', body: 'hello', attachments: [], timestamp: '2024-11-01T14:00:00Z' };

/** Asserts the RFC 9457 shape every error answer has, and that it leaks no internals. */
function expectProblem(res: Response, status: number): Record<string, any> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, any>;
  expect(body).toMatchObject({ status });
  expect(typeof body.type).toBe('string');
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(body).not.toHaveProperty('stack');
  expect(res.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts:\d+|\/src\//);
  return body;
}

/** Asserts a 422 validation problem and returns the fields its `errors` name. */
function expectValidationProblem(res: Response): string[] {
  const body = expectProblem(res, 422);
  expect(Array.isArray(body.errors)).toBe(true);
  expect(body.errors.length).toBeGreaterThan(0);
  for (const e of body.errors) {
    expect(typeof e.field).toBe('string');
    expect(typeof e.message).toBe('string');
    expect(e.message.length).toBeGreaterThan(0);
  }
  return (body.errors as { field: string }[]).map((e) => e.field);
}

/** Asserts that no message, conversation or delivery job is stored (TestApp.stored). */
async function expectNothingStored(t: TestApp): Promise<void> {
  expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
}

describe('Validation and error answers (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  describe('C8: `from` and `from_` on POST /messages/send', () => {
    it('accepts only `from_` (202) and stores the sender', async () => {
      const res = await t.http.post('/messages/send').send({ ...SEND, from_: A }).expect(202);
      expect(res.body).toMatchObject({ from: A, to: B, status: 'queued' });
      const rows = await t.dataSource.query('SELECT from_address FROM messages');
      expect(rows).toEqual([{ from_address: A }]);
    });

    it('accepts only `from` (202) and stores the sender', async () => {
      const res = await t.http.post('/messages/send').send({ ...SEND, from: A }).expect(202);
      expect(res.body).toMatchObject({ from: A, to: B });
      const rows = await t.dataSource.query('SELECT from_address FROM messages');
      expect(rows).toEqual([{ from_address: A }]);
    });

    it('accepts both when they are the same sender', async () => {
      const res = await t.http.post('/messages/send').send({ ...SEND, from: A, from_: A }).expect(202);
      expect(res.body.from).toBe(A);
    });

    it('rejects a body with neither (422 naming `from`)', async () => {
      const fields = expectValidationProblem(await t.http.post('/messages/send').send(SEND));
      expect(fields).toContain('from');
      await expectNothingStored(t);
    });

    it('rejects `from` and `from_` with different values (422)', async () => {
      const res = await t.http.post('/messages/send').send({ ...SEND, from: A, from_: '+12015550199' });
      const fields = expectValidationProblem(res);
      expect(fields.some((f) => f === 'from' || f === 'from_')).toBe(true);
      await expectNothingStored(t);
    });

    it('rejects an unknown field such as "priority" (422 naming it)', async () => {
      const fields = expectValidationProblem(await t.http.post('/messages/send').send({ ...SEND, from_: A, priority: 'high' }));
      expect(fields).toContain('priority');
      await expectNothingStored(t);
    });

    it.each([
      ['from: null', { from: null }],
      ['from_: null', { from_: null }],
      ['both null', { from: null, from_: null }],
      ['from_ with from: null', { from_: A, from: null }],
      ['from: ""', { from: '' }],
      ['from_ a number', { from_: 11234567890 }],
    ])('never stores a null or empty sender (%s -> 422)', async (_name, sender) => {
      expectValidationProblem(await t.http.post('/messages/send').send({ ...SEND, ...sender }));
      await expectNothingStored(t);
    });

    it('has no stored message with a null sender after the accepted sends', async () => {
      await t.http.post('/messages/send').send({ ...SEND, from_: A }).expect(202);
      await t.http.post('/messages/send').send({ ...SEND, from: A }).expect(202);
      expect(await t.count(`SELECT count(*) FROM messages WHERE from_address IS NULL OR from_address = ''`)).toBe(0);
    });
  });

  describe('C10: arrays are checked item by item', () => {
    it('names attachments[0], attachments[1] and attachments[2] on POST /api/messages/email', async () => {
      const res = await t.http.post('/api/messages/email').send({ ...EMAIL, attachments: [123, { url: 'x' }, ''] });
      const fields = expectValidationProblem(res);
      expect(fields).toEqual(expect.arrayContaining(['attachments[0]', 'attachments[1]', 'attachments[2]']));
      await expectNothingStored(t);
    });

    it('names only the bad item of an otherwise good list', async () => {
      const res = await t.http
        .post('/api/messages/sms')
        .send({ ...SMS, type: 'mms', attachments: ['https://example.com/a.png', 'not a url', 'https://example.com/c.png'] });
      expect(expectValidationProblem(res)).toEqual(['attachments[1]']);
      await expectNothingStored(t);
    });

    it.each([
      ['/api/messages/email', [EMAIL]],
      ['/api/messages/sms', [SMS]],
      ['/messages/send', [{ ...SEND, from_: A }]],
      ['/api/webhooks/sms', [{ ...SMS, messaging_provider_id: 'SM-1' }]],
      ['/api/messages/sms', []],
    ])('rejects a whole body that is a JSON array on %s (422 or 400)', async (path, body) => {
      const res = await t.http.post(path).set('content-type', 'application/json').send(JSON.stringify(body));
      expect([400, 422]).toContain(res.status);
      expectProblem(res, res.status);
      await expectNothingStored(t);
    });

    it.each(['null', '"hello"', '42', 'true'])('rejects a body that is the JSON scalar %s (422 or 400)', async (raw) => {
      const res = await t.http.post('/api/messages/sms').set('content-type', 'application/json').send(raw);
      expect([400, 422]).toContain(res.status);
      expectProblem(res, res.status);
      await expectNothingStored(t);
    });

    it('rejects a JSON request without a body (422)', async () => {
      expectValidationProblem(await t.http.post('/api/messages/sms').set('content-type', 'application/json'));
      await expectNothingStored(t);
    });
  });

  describe('C11: no implicit type conversion', () => {
    it('rejects "to" as a JSON number and "body" as a JSON number on POST /api/messages/sms (422)', async () => {
      const fields = expectValidationProblem(await t.http.post('/api/messages/sms').send({ ...SMS, to: 12015550123, body: 42 }));
      expect(fields).toEqual(expect.arrayContaining(['to', 'body']));
      await expectNothingStored(t);
    });

    it.each([
      ['to', { to: 12015550123 }],
      ['body', { body: 42 }],
      ['from', { from: 12015550100 }],
      ['body', { body: true }],
      ['attachments', { attachments: 'https://example.com/a.png' }],
      ['timestamp', { timestamp: 1730469600000 }],
      ['type', { type: ['sms'] }],
    ])('rejects a wrong JSON type for %s (422 naming it)', async (field, patch) => {
      const fields = expectValidationProblem(await t.http.post('/api/messages/sms').send({ ...SMS, ...patch }));
      expect(fields).toContain(field);
      await expectNothingStored(t);
    });

    it('rejects a number where a webhook expects a string (422)', async () => {
      const res = await t.http.post('/api/webhooks/sms').send({ ...SMS, messaging_provider_id: 12345, body: 42 });
      expect(expectValidationProblem(res)).toEqual(expect.arrayContaining(['messaging_provider_id', 'body']));
      await expectNothingStored(t);
    });
  });

  describe('body parsing', () => {
    it('answers malformed JSON with 400', async () => {
      const res = await t.http.post('/api/messages/sms').set('content-type', 'application/json').send('{"from": "+12015550100",');
      expectProblem(res, 400);
      await expectNothingStored(t);
    });

    it.each([
      ['text/plain', JSON.stringify(SMS)],
      ['application/x-www-form-urlencoded', 'from=%2B12015550100&to=%2B12015550123&type=sms&body=hi'],
      ['application/xml', '<message><body>hi</body></message>'],
    ])('answers a %s body with 415', async (type, raw) => {
      const res = await t.http.post('/api/messages/sms').set('content-type', type).send(raw);
      expectProblem(res, 415);
      await expectNothingStored(t);
    });

    it('accepts application/json with a charset', async () => {
      await t.http.post('/api/messages/sms').set('content-type', 'application/json; charset=utf-8').send(JSON.stringify(SMS)).expect(202);
    });

    it('rejects a NUL character in the body (422)', async () => {
      const fields = expectValidationProblem(await t.http.post('/api/messages/sms').send({ ...SMS, body: 'a\u0000b' }));
      expect(fields).toContain('body');
      await expectNothingStored(t);
    });

    it('answers a body that is not gzip despite Content-Encoding: gzip with 400', async () => {
      const res = await t.http.post('/api/messages/sms').set('content-type', 'application/json').set('content-encoding', 'gzip').send('not gzip');
      expectProblem(res, 400);
      await expectNothingStored(t);
    });

    it.each([
      ['arrays', (d: number) => `{"body":${'['.repeat(d)}${']'.repeat(d)}}`],
      ['objects', (d: number) => `{"body":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`],
    ])('rejects JSON %s nested thousands deep with 422, not a stack overflow', async (_kind, nested) => {
      for (const path of ['/api/messages/sms', '/messages/send', '/api/webhooks/sms']) {
        const res = await t.http.post(path).set('content-type', 'application/json').send(nested(5000));
        expect(expectValidationProblem(res)[0]).toMatch(/^body/);
      }
      await expectNothingStored(t);
    });

    it.each(['__proto__', 'constructor', 'prototype'])('rejects a `%s` key anywhere in a body, on clients and webhooks (422)', async (key) => {
      const top = `{"${key}":{"admin":true},${JSON.stringify(SMS).slice(1)}`;
      expect(expectValidationProblem(await t.http.post('/api/messages/sms').set('content-type', 'application/json').send(top))).toEqual([key]);
      const nested = JSON.stringify({ ...SMS, messaging_provider_id: 'SM-1', extra: { deep: [{ [key]: { x: 1 } }] } });
      const res = await t.http.post('/api/webhooks/sms').set('content-type', 'application/json').send(nested);
      expect(expectValidationProblem(res)).toEqual([`extra.deep[0].${key}`]);
      await expectNothingStored(t);
    });

    it('rejects a NUL character in a webhook body (422)', async () => {
      const res = await t.http.post('/api/webhooks/email').send({ ...EMAIL, xillio_id: 'XL-1', body: '<p>\u0000</p>' });
      expect(expectValidationProblem(res)).toContain('body');
      await expectNothingStored(t);
    });
  });

  describe('type rules', () => {
    it('rejects sms with attachments (422)', async () => {
      const res = await t.http.post('/api/messages/sms').send({ ...SMS, attachments: ['https://example.com/a.png'] });
      expect(expectValidationProblem(res)).toContain('attachments');
      await expectNothingStored(t);
    });

    it.each([[[]], [null], [undefined]])('rejects mms with no attachments (%p -> 422)', async (attachments) => {
      const res = await t.http.post('/api/messages/sms').send({ ...SMS, type: 'mms', attachments });
      expect(expectValidationProblem(res)).toContain('attachments');
      await expectNothingStored(t);
    });

    it('accepts mms with 10 attachments and rejects 11 (422)', async () => {
      const urls = (n: number) => Array.from({ length: n }, (_, i) => `https://example.com/${i}.png`);
      const res = await t.http.post('/api/messages/sms').send({ ...SMS, type: 'mms', attachments: urls(11) });
      expect(expectValidationProblem(res)).toContain('attachments');
      await expectNothingStored(t);
      const ok = await t.http.post('/api/messages/sms').send({ ...SMS, type: 'mms', attachments: urls(10) }).expect(202);
      expect(ok.body.attachments).toHaveLength(10);
    });

    it('refuses a list of 9,000 bad attachments with one error for its length (422), not an error per item', async () => {
      // Found by the property-based suite: one error per item (900,000 of them overflowed the stack: 500).
      for (const path of ['/api/messages/sms', '/api/webhooks/sms']) {
        const body = JSON.stringify({ ...SMS, type: 'mms', messaging_provider_id: 'many', attachments: new Array(9_000).fill(1) });
        const res = await t.http.post(path).set('content-type', 'application/json').send(body);
        const problem = expectProblem(res, 422);
        expect(problem.errors.filter((e: { field: string }) => e.field.startsWith('attachments'))).toEqual([{ field: 'attachments', message: 'must hold at most 10 URLs' }]);
        await expectNothingStored(t);
      }
    });

    it('refuses a body of more than 10,000 values (900,000 list items, 150,000 unknown fields) at once (422), on webhooks too', async () => {
      // Found by the property-based suite: validation copied every value, in time quadratic in an object's keys (a minute for 150,000).
      const manyKeys = Object.fromEntries(Array.from({ length: 150_000 }, (_, i) => [`k${i}`, 0]));
      const bodies: Array<[string, Record<string, unknown>, string]> = [
        ['/api/messages/sms', { ...SMS, type: 'mms', attachments: new Array(900_000).fill(1) }, 'attachments'],
        ['/api/webhooks/sms', { ...SMS, messaging_provider_id: 'many-keys', ...manyKeys }, '$'],
      ];
      for (const [path, body, field] of bodies) {
        const res = await t.http.post(path).set('content-type', 'application/json').send(JSON.stringify(body));
        const problem = expectProblem(res, 422);
        expect(problem.errors).toEqual([{ field, message: 'makes the body hold more than 10,000 values' }]);
        await expectNothingStored(t);
      }
    });

    it.each(['ftp://example.com/a.png', 'file:///etc/passwd', 'javascript:alert(1)', 'example.com/a.png', 'data:image/png;base64,AAAA'])(
      'rejects a non-http(s) attachment URL %s (422)',
      async (url) => {
        const res = await t.http.post('/api/messages/sms').send({ ...SMS, type: 'mms', attachments: [url] });
        expect(expectValidationProblem(res)).toContain('attachments[0]');
        await expectNothingStored(t);
      },
    );

    it('rejects attachment URLs PostgreSQL cannot store or RFC 3986 forbids: NUL, control characters, unpaired surrogates (422, never 500)', async () => {
      const raw = (url: string) =>
        `{"from":"${A}","to":"${B}","type":"mms","body":"x","attachments":["https://example.com/ok.png","${url}"]}`;
      for (const url of ['https://example.com/\\u0000', 'https://example.com/?q=\\u0000', 'https://example.com/a\\u0001b', 'https://example.com/\\ud800', 'https://example.com/\\udc00x']) {
        const res = await t.http.post('/api/messages/sms').set('content-type', 'application/json').send(raw(url));
        expect(expectValidationProblem(res)).toEqual(['attachments[1]']);
      }
      const webhook = await t.http
        .post('/api/webhooks/sms')
        .set('content-type', 'application/json')
        .send(`{"from":"${B}","to":"${A}","type":"mms","messaging_provider_id":"SM-NUL-1","body":"x","attachments":["https://example.com/\\u0000"]}`);
      expect(expectValidationProblem(webhook)).toEqual(['attachments[0]']);
      await expectNothingStored(t);
    });

    it('accepts an attachment URL with a paired surrogate (emoji) in it', async () => {
      await t.http.post('/api/messages/sms').send({ ...SMS, type: 'mms', attachments: ['https://example.com/😀.png'] }).expect(202);
    });

    it('accepts a leap day and reads the timestamp back as sent', async () => {
      const res = await t.http.post('/api/messages/sms').send({ ...SMS, timestamp: '2024-02-29T14:00:00+02:00' }).expect(202);
      expect(res.body.timestamp).toBe('2024-02-29T12:00:00.000Z');
    });

    it('accepts an sms body of 1,600 characters and rejects 1,601 (422)', async () => {
      const res = await t.http.post('/api/messages/sms').send({ ...SMS, body: 'x'.repeat(1601) });
      expect(expectValidationProblem(res)).toContain('body');
      await expectNothingStored(t);
      const ok = await t.http.post('/api/messages/sms').send({ ...SMS, body: 'x'.repeat(1600) }).expect(202);
      expect(ok.body.body).toHaveLength(1600);
    });

    it('counts characters, not UTF-16 units: 1,600 emoji are accepted', async () => {
      await t.http.post('/api/messages/sms').send({ ...SMS, body: '😀'.repeat(1600) }).expect(202);
    });

    it('rejects email with phone-number addresses (422 naming from and to)', async () => {
      const res = await t.http.post('/api/messages/email').send({ ...EMAIL, from: A, to: B });
      expect(expectValidationProblem(res)).toEqual(expect.arrayContaining(['from', 'to']));
      await expectNothingStored(t);
    });

    it('rejects type email on /messages/send with phone-number addresses (422)', async () => {
      const res = await t.http.post('/messages/send').send({ ...SEND, type: 'email', from: A, to: B });
      expect(expectValidationProblem(res)).toEqual(expect.arrayContaining(['from', 'to']));
      await expectNothingStored(t);
    });

    it('rejects sms with email addresses (422 naming from and to)', async () => {
      const res = await t.http.post('/api/messages/sms').send({ ...SMS, from: 'team@example.com', to: 'ann@example.com' });
      expect(expectValidationProblem(res)).toEqual(expect.arrayContaining(['from', 'to']));
      await expectNothingStored(t);
    });

    it('rejects an unknown type (422)', async () => {
      expect(expectValidationProblem(await t.http.post('/api/messages/sms').send({ ...SMS, type: 'email' }))).toContain('type');
      expect(expectValidationProblem(await t.http.post('/messages/send').send({ ...SEND, from: A, type: 'fax' }))).toContain('type');
      await expectNothingStored(t);
    });

    it.each(['2024-11-01T14:00:00', '2024-11-01 14:00:00Z', '2024-11-01', 'yesterday', '2024-13-01T14:00:00Z', '2024-02-30T14:00:00Z', '2023-02-29T14:00:00Z', '2024-04-31T14:00:00Z', ''])(
      'rejects the timestamp %p (422)',
      async (timestamp) => {
        const res = await t.http.post('/api/messages/sms').send({ ...SMS, timestamp });
        expect(expectValidationProblem(res)).toContain('timestamp');
        await expectNothingStored(t);
      },
    );

    it('rejects a client timestamp 10 minutes in the future (422) but accepts one 1 minute ahead', async () => {
      const future = new Date(Date.now() + 10 * 60_000).toISOString();
      const res = await t.http.post('/api/messages/sms').send({ ...SMS, timestamp: future });
      expect(expectValidationProblem(res)).toContain('timestamp');
      await expectNothingStored(t);
      const soon = new Date(Date.now() + 60_000).toISOString();
      await t.http.post('/api/messages/sms').send({ ...SMS, timestamp: soon }).expect(202);
    });

    it('accepts a webhook with a timestamp 10 minutes in the future (200)', async () => {
      const future = new Date(Date.now() + 10 * 60_000).toISOString();
      const res = await t.http
        .post('/api/webhooks/sms')
        .send({ from: B, to: A, type: 'sms', messaging_provider_id: 'SM-FUTURE-1', body: 'from the future', attachments: null, timestamp: future })
        .expect(200);
      expect(res.body.message.timestamp).toBe(future);
      expect(await t.stored()).toMatchObject({ messages: 1, conversations: 1 });
    });

    it('collects every broken rule of a request in one answer', async () => {
      const res = await t.http
        .post('/api/messages/sms')
        .send({ ...SMS, from: '12ab', to: 'ann@example.com', body: 'x'.repeat(1601), attachments: ['https://example.com/a.png'] });
      expect(expectValidationProblem(res)).toEqual(expect.arrayContaining(['from', 'to', 'body', 'attachments']));
      await expectNothingStored(t);
    });
  });

  describe('routes', () => {
    it.each([
      ['GET', '/nope'],
      ['POST', '/api/messages/fax'],
      ['GET', '/api/unknown/1'],
    ])('answers an unknown route %s %s with 404 problem+json', async (method, path) => {
      const res = method === 'GET' ? await t.http.get(path) : await t.http.post(path).send(SMS);
      expectProblem(res, 404);
      await expectNothingStored(t);
    });
  });
});

describe('Body size limit (e2e, BODY_LIMIT=1kb)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT: '1kb' });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('answers a body over the limit with 413 and stores nothing', async () => {
    const res = await t.http.post('/api/messages/sms').send({ ...SMS, body: 'x'.repeat(2000) });
    expectProblem(res, 413);
    await expectNothingStored(t);
  });

  it('accepts a body under the limit', async () => {
    await t.http.post('/api/messages/sms').send({ ...SMS, body: 'x'.repeat(500) }).expect(202);
  });
});
