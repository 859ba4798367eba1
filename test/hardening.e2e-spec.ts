import { Logger } from '@nestjs/common';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Response } from 'supertest';
import { MessagesService } from '../src/messages/messages.service';
import { emailBody, smsBody } from './support/messages';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Hardening (issue 4): security header fields (helmet) with Swagger UI still working
 * under its Content Security Policy; the 2 MB body limit, answered at once when
 * Content-Length already exceeds it; NUL characters and prototype keys anywhere in a
 * body refused with 422; no stack trace, SQL or library name in any error body.
 */

const PROBLEM = /^application\/problem\+json/;
/** What an error body must never show: stack frames, file paths, SQL, driver or library names. */
const INTERNALS = /\bat .+:\d+|node_modules|\.ts\b|\/src\/|select |insert |update |relation|constraint|syntax|typeorm|QueryFailed|postgres|\bpg\b|pg-boss|throttler|express|nestjs|TypeError|Error:/i;

const INBOUND_SMS = { from: '+12015550123', to: '+12015550100', type: 'sms', messaging_provider_id: 'SM-H-1', body: 'hi', attachments: null };
const INBOUND_EMAIL = { from: 'ann@example.com', to: 'team@example.com', xillio_id: 'XL-H-1', body: '<p>hi</p>', attachments: [] };
const RECEIPT = { provider_message_id: 'mock-1', status: 'undelivered', error_code: '30003', error_message: 'Unreachable', provider: 'mock-sms' };
const SEND = { ...smsBody(), from: undefined, from_: '+12015550100' };

/** Every endpoint that takes a JSON body, with a valid body and its string fields. */
const BODY_ENDPOINTS: Array<[string, Record<string, unknown>, string[]]> = [
  ['/messages/send', SEND, ['from_', 'to', 'type', 'body', 'timestamp']],
  ['/api/messages/sms', smsBody(), ['from', 'to', 'type', 'body', 'timestamp']],
  ['/api/messages/email', emailBody(), ['from', 'to', 'body', 'timestamp']],
  ['/api/webhooks/sms', INBOUND_SMS, ['from', 'to', 'type', 'messaging_provider_id', 'body']],
  ['/api/webhooks/email', INBOUND_EMAIL, ['from', 'to', 'xillio_id', 'body']],
  ['/api/webhooks/status', RECEIPT, ['provider_message_id', 'status', 'error_code', 'error_message', 'provider']],
];

/** Asserts a 422 validation problem and returns the fields it names. */
function validationFields(res: Response): string[] {
  expect(res.status).toBe(422);
  expect(res.headers['content-type']).toMatch(PROBLEM);
  return (JSON.parse(res.text).errors as { field: string }[]).map((e) => e.field);
}

/** Asserts the generic 500 problem: nothing about what failed inside. */
function expectOpaque500(res: Response): void {
  expect(res.status).toBe(500);
  expect(res.headers['content-type']).toMatch(PROBLEM);
  expect(JSON.parse(res.text)).toEqual({
    type: '/problems/internal-error',
    title: 'Internal server error',
    status: 500,
    detail: 'An unexpected error occurred.',
    code: 'internal_error',
  });
  expect(res.text).not.toMatch(INTERNALS);
}

describe('Hardening (e2e, default settings)', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  describe('security header fields (helmet)', () => {
    it.each([
      ['a 202', () => t.http.post('/api/messages/sms').send(smsBody()), 202],
      ['a 200', () => t.http.get('/api/conversations'), 200],
      ['a 404', () => t.http.get('/nothing-here'), 404],
      ['a 422', () => t.http.post('/api/messages/sms').send({}), 422],
      ['a webhook', () => t.http.post('/api/webhooks/sms').send(INBOUND_SMS), 200],
      ['/health', () => t.http.get('/health'), 200],
    ])('on %s', async (_what, send, status) => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
        'content-security-policy': expect.stringContaining("default-src 'self'"),
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('keeps Swagger UI working under its Content Security Policy', async () => {
      const page = await t.http.get('/docs/').expect(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const csp = page.headers['content-security-policy'] as string;
      const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
      expect(directives['script-src']).toEqual(["'self'"]);
      expect(directives['style-src']).toEqual(expect.arrayContaining(["'self'", "'unsafe-inline'"])); // the page's <style> block
      expect(directives['img-src']).toEqual(expect.arrayContaining(["'self'", 'data:'])); // Swagger UI's inline SVG icons
      expect(directives).not.toHaveProperty('upgrade-insecure-requests'); // would break /docs over plain HTTP
      // No inline script (script-src 'self' would block it); every script and style sheet is served from /docs itself.
      expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
      const assets = [...page.text.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\bhref)=["']([^"']+)["']/g)].map((m) => m[1]);
      expect(assets).toEqual(expect.arrayContaining(['./swagger-ui-bundle.js', './swagger-ui-init.js', './swagger-ui.css']));
      for (const asset of assets) {
        expect(asset).not.toMatch(/^(https?:)?\/\//); // same origin
        const res = await t.http.get(new URL(asset, 'http://x/docs/').pathname);
        expect([asset, res.status]).toEqual([asset, 200]);
      }
      // The OpenAPI document is embedded in swagger-ui-init.js: no request to another origin.
      const init = await t.http.get('/docs/swagger-ui-init.js').expect(200);
      expect(init.text).toContain('"/api/messages/sms"');
    });
  });

  describe('body size limit (BODY_LIMIT, default 2mb)', () => {
    /** Sends headers and `sent` bytes of a body whose Content-Length says `declared`, and waits for an answer. */
    function partialUpload(declared: number, sent: string, timeoutMs = 3_000): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; ms: number }> {
      return new Promise((resolve, reject) => {
        const started = performance.now();
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/messages/sms',
          headers: { 'content-type': 'application/json', 'content-length': String(declared) },
        });
        const timer = setTimeout(() => {
          req.destroy();
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            clearTimeout(timer);
            req.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - started });
          });
        });
        req.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        req.write(sent); // and never the rest
      });
    }

    it('answers 413 at once when Content-Length exceeds 2 MB, without waiting for the body', async () => {
      const answer = await partialUpload(2 * 1024 * 1024 + 1, '{"body":"' + 'x'.repeat(1000));
      expect(answer.status).toBe(413);
      expect(answer.ms).toBeLessThan(1_000);
      expect(answer.headers['content-type']).toMatch(PROBLEM);
      expect(answer.headers.connection).toBe('close');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(JSON.parse(answer.body)).toMatchObject({ status: 413, code: 'payload_too_large', detail: expect.stringContaining('2097152 bytes') });
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });

    it('waits for a body that fits (Content-Length of exactly 2 MB is not refused early)', async () => {
      await expect(partialUpload(2 * 1024 * 1024, '{"body":"x', 500)).rejects.toThrow(/no answer/);
    });

    it('reads a body of exactly 2 MB (here refused by validation, not by size)', async () => {
      const raw = JSON.stringify(emailBody(''));
      const padded = raw.replace('"body":""', `"body":"${'x'.repeat(2 * 1024 * 1024 - raw.length)}"`);
      expect(Buffer.byteLength(padded)).toBe(2 * 1024 * 1024);
      const res = await t.http.post('/api/messages/email').set('content-type', 'application/json').send(padded);
      expect(validationFields(res)).toEqual(['body']); // over the 1 MB email body rule
    });

    it('answers 413 to a chunked body (no Content-Length) once it passes 2 MB', async () => {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/messages/sms', headers: { 'content-type': 'application/json' } });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write('{"body":"');
        for (let i = 0; i < 22; i++) req.write('x'.repeat(100 * 1024));
        req.end('"}');
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 413, code: 'payload_too_large' });
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });
  });

  describe('NUL characters: 422 in any string, stored nowhere', () => {
    it.each(BODY_ENDPOINTS)('%s: in each string field', async (path, body, fields) => {
      for (const field of fields) {
        const res = await t.http.post(path).send({ ...body, [field]: `${String(body[field] ?? 'x').slice(0, 5)}\u0000` });
        expect([field, validationFields(res)]).toEqual([field, [field]]);
      }
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });

    it.each(BODY_ENDPOINTS)('%s: in an attachment, an unknown field, a nested value or a key', async (path, body) => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...body, attachments: ['https://example.com/a.png', 'https://example.com/\u0000.png'] }, 'attachments[1]'],
        [{ ...body, carrier: 'T\u0000Mobile' }, 'carrier'],
        [{ ...body, meta: { tags: ['ok', 'n\u0000'] } }, 'meta.tags[1]'],
        [{ ...body, ['x\u0000y']: 1 }, 'x\\u0000y'],
      ];
      for (const [sent, field] of cases) expect(validationFields(await t.http.post(path).send(sent))).toEqual([field]);
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });

    it('in query parameters and path ids', async () => {
      expect(validationFields(await t.http.get('/api/messages?status=failed%00'))).toEqual(['status']);
      expect(validationFields(await t.http.get('/api/messages?conversation_id=1%00'))).toEqual(['conversation_id']);
      expect(validationFields(await t.http.get('/api/messages/1%00'))).toEqual(['id']);
      expect(new Set(validationFields(await t.http.get('/api/conversations?page=1%00')))).toEqual(new Set(['page']));
    });
  });

  describe('prototype keys: 422 anywhere in any body', () => {
    it.each(BODY_ENDPOINTS)('%s', async (path, body) => {
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const top = `{"${key}":{"polluted":true},${JSON.stringify(body).slice(1)}`;
        expect(validationFields(await t.http.post(path).set('content-type', 'application/json').send(top))).toEqual([key]);
        const nested = JSON.stringify({ ...body, attachments: [] }).replace('"attachments":[]', `"attachments":[{"${key}":{"polluted":true}}]`);
        expect(validationFields(await t.http.post(path).set('content-type', 'application/json').send(nested))).toEqual([`attachments[0].${key}`]);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });
  });

  describe('error bodies show no internals', () => {
    let logged: jest.SpyInstance;

    beforeEach(() => {
      logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    });
    afterEach(() => jest.restoreAllMocks());

    it('an unexpected error: a generic 500, the details only in the log', async () => {
      const failure = new TypeError("Cannot read properties of undefined (reading 'rows') in SELECT * FROM messages (typeorm QueryRunner)");
      jest.spyOn(t.app.get(MessagesService), 'list').mockRejectedValueOnce(failure);
      expectOpaque500(await t.http.get('/api/messages'));
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('TypeError: Cannot read properties of undefined'));
    });

    it('a database error on a read (missing table): a generic 500', async () => {
      await t.dataSource.query('ALTER TABLE messages RENAME TO messages_hidden');
      try {
        expectOpaque500(await t.http.get('/api/messages/1'));
        expectOpaque500(await t.http.get('/api/messages?status=failed'));
      } finally {
        await t.dataSource.query('ALTER TABLE messages_hidden RENAME TO messages');
      }
      expect(logged).toHaveBeenCalledWith(expect.stringMatching(/relation "messages" does not exist/));
    });

    it('a database error on a write (a trigger refuses the row): a generic 500, the body not echoed, nothing stored', async () => {
      await t.dataSource.query(`
        CREATE FUNCTION hardening_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused: INSERT INTO messages (body) VALUES (%)', NEW.body; END $$`);
      await t.dataSource.query('CREATE TRIGGER hardening_refuse BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION hardening_refuse()');
      try {
        const secret = 'secret-body-4f1c';
        for (const res of [
          await t.http.post('/api/messages/sms').send(smsBody(secret)),
          await t.http.post('/api/messages/email').send(emailBody(secret)),
          await t.http.post('/api/webhooks/sms').send({ ...INBOUND_SMS, body: secret }),
        ]) {
          expectOpaque500(res);
          expect(res.text).not.toContain(secret);
        }
      } finally {
        await t.dataSource.query('DROP TRIGGER hardening_refuse ON messages');
        await t.dataSource.query('DROP FUNCTION hardening_refuse()');
      }
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });

    it.each([
      ['malformed JSON', () => t.http.post('/api/messages/sms').set('content-type', 'application/json').send('{"body": nope'), 400],
      ['a wrong media type', () => t.http.post('/api/messages/sms').set('content-type', 'text/plain').send('hi'), 415],
      ['an unknown route', () => t.http.get('/api/nothing'), 404],
      ['an unknown method', () => t.http.delete('/api/messages/1'), 404],
      ['a bad Content-Encoding', () => t.http.post('/api/messages/sms').set('content-type', 'application/json').set('content-encoding', 'br-x').send('{}'), 415],
    ])('%s: a problem without internals', async (_what, send, status) => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.text).not.toMatch(/\bat .+:\d+|node_modules|\/src\/|typeorm|postgres|body-parser|raw-body|express|SyntaxError|Unexpected token/i);
    });
  });
});
