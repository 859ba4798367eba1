import { gzipSync } from 'node:zlib';
import { signWebhook } from '../src/providers/mock/mock-provider.server';
import { emailBody, sendSms, waitForQueueIdle } from './support/messages';
import { startTestApp, TestApp, waitForStatus } from './support/test-app';

const SECRET = 'whsec_e2e_4f1c9a';

/** Unix time now, whole seconds. */
const nowS = () => Math.floor(Date.now() / 1000);

/** Headers of a webhook signed with `secret` at `timestamp` over `raw`. */
function signatureHeaders(raw: string | Buffer, timestamp = nowS(), secret = SECRET): Record<string, string> {
  return { 'X-Webhook-Signature': signWebhook(secret, timestamp, raw), 'X-Webhook-Timestamp': String(timestamp) };
}

const inboundSms = (id = 'SM-SIG-1'): Record<string, unknown> => ({
  from: '+12015550123',
  to: '+12015550100',
  type: 'sms',
  messaging_provider_id: id,
  body: 'Are you open today?',
  attachments: null,
  timestamp: '2024-11-01T14:00:00Z',
});

const inboundEmail = (id = 'XL-SIG-1'): Record<string, unknown> => ({
  from: 'alice@example.com',
  to: 'support@example.com',
  xillio_id: id,
  body: '<p>Where is my order?</p>',
  attachments: [],
  timestamp: '2024-11-01T14:00:00Z',
});

/**
 * Webhook signatures (issue 4, item 2): with WEBHOOK_SECRET set every webhook endpoint
 * needs X-Webhook-Signature, the HMAC-SHA256 of `timestamp.rawBody`, and a timestamp
 * within 5 minutes; anything else is 401 problem+json and stores nothing. Without the
 * secret the webhooks work unsigned as before.
 */
describe('Webhook signatures (e2e)', () => {
  describe('with WEBHOOK_SECRET set', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp({ WEBHOOK_SECRET: SECRET });
    });
    beforeEach(async () => t.reset());
    afterAll(async () => t.close());

    /** POSTs `raw` exactly as given (no re-serialisation: superagent would JSON-encode a Buffer) with `headers`. */
    const postRaw = (path: string, raw: string | Buffer, headers: Record<string, string> = {}) =>
      t.http
        .post(path)
        .set({ 'Content-Type': 'application/json', ...headers })
        .serialize((body: unknown) => body as string)
        .send(raw as string);

    /** A sent outbound SMS (API shape), for delivery receipts to name. */
    async function sentSms(): Promise<Record<string, any>> {
      const sent = await waitForStatus(t, await sendSms(t, 'receipt me'), ['sent']);
      await waitForQueueIdle(t);
      return sent;
    }

    /** What a refused request leaves behind: nothing new, and the outbound message of a receipt unchanged. */
    async function snapshot(): Promise<unknown> {
      return { stored: await t.stored(), messages: await t.dataSource.query('SELECT id, status, error, updated_at FROM messages ORDER BY id') };
    }

    function expectUnauthorized(res: { status: number; headers: Record<string, string>; body: any }, reason: RegExp): void {
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 401, code: 'invalid_signature', type: '/problems/invalid-signature', title: 'Invalid webhook signature' });
      expect(res.body.detail).toMatch(reason);
    }

    const endpoints = [
      { name: 'sms', path: '/api/webhooks/sms', body: async () => inboundSms() },
      { name: 'email', path: '/api/webhooks/email', body: async () => inboundEmail() },
      { name: 'status', path: '/api/webhooks/status', body: async () => ({ provider_message_id: (await sentSms()).provider_message_id, status: 'delivered' }) },
    ];

    it.each(endpoints)('$name: a correctly signed request is accepted and applied once, also when redelivered', async ({ name, path, body }) => {
      const raw = JSON.stringify(await body());
      const before = await t.stored();
      const headers = signatureHeaders(raw);
      const first = await postRaw(path, raw, headers).expect(200);
      const again = await postRaw(path, raw, headers).expect(200); // a provider's redelivery within the window
      expect(first.body.received).toBe(true);
      expect(again.body.message.id).toBe(first.body.message.id);
      const after = await t.stored();
      if (name === 'status') {
        expect(after).toEqual(before);
        expect(first.body.message.status).toBe('delivered');
        expect((await t.http.get(`/api/messages/${first.body.message.id}`)).body.status).toBe('delivered');
      } else {
        expect(after).toEqual({ ...before, messages: before.messages + 1, conversations: before.conversations + 1 });
        expect(first.body.message).toMatchObject({ direction: 'inbound', status: 'received' });
      }
    });

    describe.each(endpoints)('$name: refused with 401, nothing stored', ({ path, body }) => {
      let raw: string;
      let before: unknown;

      beforeEach(async () => {
        raw = JSON.stringify(await body());
        before = await snapshot();
      });
      afterEach(async () => {
        expect(await snapshot()).toEqual(before);
      });

      it('without any signature header', async () => {
        expectUnauthorized(await postRaw(path, raw), /Missing X-Webhook-Signature/);
      });

      it('with a signature but no timestamp', async () => {
        const { 'X-Webhook-Signature': signature } = signatureHeaders(raw);
        expectUnauthorized(await postRaw(path, raw, { 'X-Webhook-Signature': signature }), /Missing X-Webhook-Timestamp/);
      });

      it('with a signature made with another secret', async () => {
        expectUnauthorized(await postRaw(path, raw, signatureHeaders(raw, nowS(), 'not-the-secret')), /does not match/);
      });

      it('with a garbled signature', async () => {
        const headers = signatureHeaders(raw);
        const flipped = headers['X-Webhook-Signature'].replace(/^./, (c) => (c === '0' ? '1' : '0'));
        expectUnauthorized(await postRaw(path, raw, { ...headers, 'X-Webhook-Signature': flipped }), /does not match/);
        expectUnauthorized(await postRaw(path, raw, { ...headers, 'X-Webhook-Signature': 'sha256=abc' }), /64 lowercase hex/);
      });

      it('with a signature over a different body', async () => {
        const other = JSON.stringify({ ...JSON.parse(raw), extra: 'tampered' });
        expectUnauthorized(await postRaw(path, other, signatureHeaders(raw)), /does not match/);
      });

      it('with a signature for another timestamp than the one sent', async () => {
        const ts = nowS();
        expectUnauthorized(await postRaw(path, raw, { ...signatureHeaders(raw, ts), 'X-Webhook-Timestamp': String(ts - 1) }), /does not match/);
      });

      it('replayed: a correct signature more than 5 minutes old', async () => {
        expectUnauthorized(await postRaw(path, raw, signatureHeaders(raw, nowS() - 301)), /more than 5 minutes old/);
        expectUnauthorized(await postRaw(path, raw, signatureHeaders(raw, nowS() - 86_400)), /more than 5 minutes old/);
      });

      it('from the future: a correct signature more than 5 minutes ahead', async () => {
        expectUnauthorized(await postRaw(path, raw, signatureHeaders(raw, nowS() + 301)), /more than 5 minutes in the future/);
      });

      it('with a timestamp that is not whole Unix seconds', async () => {
        const ms = Date.now();
        expectUnauthorized(await postRaw(path, raw, signatureHeaders(raw, ms)), /whole seconds/); // milliseconds
        expectUnauthorized(await postRaw(path, raw, { ...signatureHeaders(raw), 'X-Webhook-Timestamp': new Date().toISOString() }), /whole seconds/);
      });

      it('before validation: an unsigned invalid body is 401, not 422', async () => {
        expectUnauthorized(await postRaw(path, '{"from":42}'), /Missing X-Webhook-Signature/);
        expectUnauthorized(await t.http.post(path), /Missing X-Webhook-Signature/); // no body at all
      });
    });

    it('verifies the exact bytes received, not the parsed JSON (whitespace, key order, escapes)', async () => {
      const raw = `{ "type":"sms",\n  "to": "+12015550100", "from":"+12015550123",\t"messaging_provider_id":"SM-RAW-1",\r\n "body":"caf\\u00e9 \u2615" }`;
      const res = await postRaw('/api/webhooks/sms', raw, signatureHeaders(raw)).expect(200);
      expect(res.body.message.body).toBe('café \u2615');
      // The same JSON re-serialised is a different byte string: its signature does not fit the bytes sent.
      const reserialised = JSON.stringify(JSON.parse(raw));
      expectUnauthorized(await postRaw('/api/webhooks/sms', raw, signatureHeaders(reserialised)), /does not match/);
      expect((await t.stored()).messages).toBe(1);
    });

    it('verifies a compressed body over its decompressed bytes', async () => {
      const raw = JSON.stringify(inboundSms('SM-GZ-1'));
      const res = await postRaw('/api/webhooks/sms', gzipSync(raw), { 'Content-Encoding': 'gzip', ...signatureHeaders(raw) }).expect(200);
      expect(res.body.message.provider_message_id).toBe('SM-GZ-1');
    });

    it('guards the routes however Express matches them (case, trailing slash)', async () => {
      const raw = JSON.stringify(inboundSms('SM-CASE-1'));
      expectUnauthorized(await postRaw('/API/Webhooks/SMS', raw), /Missing/);
      expectUnauthorized(await postRaw('/api/webhooks/sms/', raw), /Missing/);
      expect((await t.stored()).messages).toBe(0);
      await postRaw('/API/Webhooks/SMS/', raw, signatureHeaders(raw)).expect(200);
      expect((await t.stored()).messages).toBe(1);
    });

    it('leaves the client API alone: sends and reads need no signature', async () => {
      await t.http.post('/api/messages/email').send(emailBody()).expect(202);
      await t.http.get('/api/conversations').expect(200);
    });

    it('documents the signature headers and the 401 on every webhook in Swagger', async () => {
      const doc = (await t.http.get('/docs-json').expect(200)).body;
      for (const path of ['/api/webhooks/sms', '/api/webhooks/email', '/api/webhooks/status']) {
        const operation = doc.paths[path].post;
        const headers = operation.parameters.filter((p: { in: string }) => p.in === 'header').map((p: { name: string }) => p.name);
        expect(headers).toEqual(expect.arrayContaining(['X-Webhook-Signature', 'X-Webhook-Timestamp']));
        expect(operation.responses['401'].content['application/problem+json']).toBeDefined();
      }
      const clientHeaders = (doc.paths['/api/messages/sms'].post.parameters ?? []).map((p: { name: string }) => p.name);
      expect(clientHeaders).not.toContain('X-Webhook-Signature');
    });
  });

  describe('without WEBHOOK_SECRET (as before)', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp();
    });
    beforeEach(async () => t.reset());
    afterAll(async () => t.close());

    it('accepts unsigned webhooks, and ignores signature headers it cannot check', async () => {
      await t.http.post('/api/webhooks/sms').send(inboundSms('SM-U-1')).expect(200);
      await t.http.post('/api/webhooks/email').send(inboundEmail('XL-U-1')).expect(200);
      await t.http
        .post('/api/webhooks/sms')
        .set({ 'X-Webhook-Signature': 'nonsense', 'X-Webhook-Timestamp': '0' })
        .send(inboundSms('SM-U-2'))
        .expect(200);
      expect((await t.stored()).messages).toBe(3);
      const sent = await waitForStatus(t, await sendSms(t), ['sent']);
      await t.http.post('/api/webhooks/status').send({ provider_message_id: sent.provider_message_id, status: 'delivered' }).expect(200);
    });

    it('still validates: an invalid body is 422', async () => {
      const res = await t.http.post('/api/webhooks/sms').send({ ...inboundSms(), type: 'fax' }).expect(422);
      expect(res.body.code).toBe('validation_failed');
      expect((await t.stored()).messages).toBe(0);
    });
  });
});
