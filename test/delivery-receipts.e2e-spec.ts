import { DeliveryReceiptsService, RECEIPT_LOCK_CLASS } from '../src/messages/delivery-receipts.service';
import { DeliveryService } from '../src/messages/delivery/delivery.service';
import { emailBody, idempotencyKeyOf, sendSms, waitForQueueIdle } from './support/messages';
import { providerReceived, providerRequests, script } from './support/mock-provider';
import { captureQueries } from './support/query-capture';
import { startTestApp, TestApp, waitFor, waitForStatus } from './support/test-app';

/**
 * Delivery receipts (POST /api/webhooks/status): in order and out of order, repeated,
 * racing, never moving a message back from delivered, undelivered or failed.
 */
describe('Delivery receipts: POST /api/webhooks/status (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  /** Sends an SMS and waits until it is sent; returns it as the API shows it. */
  async function sentSms(body = 'receipt me'): Promise<Record<string, any>> {
    const sent = await waitForStatus(t, await sendSms(t, body), ['sent']);
    await waitForQueueIdle(t);
    return sent;
  }

  const receipt = (providerMessageId: string, status: string, extra: Record<string, unknown> = {}) =>
    t.http.post('/api/webhooks/status').send({ provider_message_id: providerMessageId, status, ...extra });

  describe('in order (sent, then the receipt)', () => {
    it('moves a sent message to delivered and answers {received: true, message}', async () => {
      const sent = await sentSms();
      const res = await receipt(sent.provider_message_id, 'delivered', { timestamp: '2025-05-21T18:00:05Z' }).expect(200);
      expect(res.body.received).toBe(true);
      expect(res.body.message).toMatchObject({ id: sent.id, status: 'delivered', error: null, sent_at: sent.sent_at, provider_message_id: sent.provider_message_id });
      expect((await t.http.get(`/api/messages/${sent.id}`).expect(200)).body).toEqual(res.body.message);
    });

    it("records the provider's error for undelivered", async () => {
      const sent = await sentSms();
      const res = await receipt(sent.provider_message_id, 'undelivered', { error_code: '30003', error_message: 'Unreachable destination handset' }).expect(200);
      expect(res.body.message).toMatchObject({ status: 'undelivered', error: { code: '30003', message: 'Unreachable destination handset' } });
    });

    it('records failed with default code and message when the provider gives none (nulls allowed)', async () => {
      const sent = await sentSms();
      const res = await receipt(sent.provider_message_id, 'failed', { error_code: null, error_message: null, timestamp: null }).expect(200);
      expect(res.body.message).toMatchObject({ status: 'failed', error: { code: 'delivery_failed', message: 'The provider reported the message failed' } });
      const listed = await t.http.get('/api/messages?status=failed').expect(200);
      expect(listed.body.map((m: { id: number }) => m.id)).toEqual([sent.id]);
    });

    it('works for email, and when the receipt names the provider', async () => {
      const queued = await t.http.post('/api/messages/email').send(emailBody()).expect(202);
      const sent = await waitForStatus(t, queued.body.id, ['sent']);
      const res = await receipt(sent.provider_message_id, 'delivered', { provider: 'mock-email' }).expect(200);
      expect(res.body.message).toMatchObject({ id: sent.id, type: 'email', status: 'delivered' });
    });

    it('ignores unknown fields, as the other webhooks do', async () => {
      const sent = await sentSms();
      await receipt(sent.provider_message_id, 'delivered', { AccountSid: 'AC123', price: '-0.0075', raw: { a: 1 } }).expect(200);
    });
  });

  describe('repeated and late receipts', () => {
    it('answers a repeated receipt 200 with the same, unchanged message', async () => {
      const sent = await sentSms();
      const first = await receipt(sent.provider_message_id, 'undelivered', { error_code: '30005' }).expect(200);
      const second = await receipt(sent.provider_message_id, 'undelivered', { error_code: '30005' }).expect(200);
      expect(second.body).toEqual(first.body);
      expect(second.body.message.updated_at).toBe(first.body.message.updated_at);
    });

    it.each([
      ['delivered', 'undelivered'],
      ['delivered', 'failed'],
      ['undelivered', 'delivered'],
      ['undelivered', 'failed'],
      ['failed', 'delivered'],
      ['failed', 'undelivered'],
    ])('never moves a message back: %s, then %s: stays the first', async (first, second) => {
      const sent = await sentSms();
      const after = (await receipt(sent.provider_message_id, first, { error_code: 'E1', error_message: 'first' }).expect(200)).body.message;
      const late = await receipt(sent.provider_message_id, second, { error_code: 'E2', error_message: 'second' }).expect(200);
      expect(late.body).toEqual({ received: true, message: after });
      expect(after.status).toBe(first);
      expect((await t.http.get(`/api/messages/${sent.id}`)).body).toEqual(after);
    });

    it('applies exactly one of many concurrent receipts; every answer shows that one outcome', async () => {
      const sent = await sentSms();
      const statuses = ['delivered', 'undelivered', 'failed'];
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          receipt(sent.provider_message_id, statuses[i % 3], { error_code: `E${i}`, error_message: `receipt ${i}` }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(24).fill(200));
      const final = (await t.http.get(`/api/messages/${sent.id}`).expect(200)).body;
      expect(statuses).toContain(final.status);
      for (const a of answers) expect(a.body.message).toEqual(final);
      if (final.status === 'delivered') {
        expect(final.error).toBeNull();
      } else {
        // The error is the winning receipt's own, not a mix of several.
        const winner = Number(final.error.code.slice(1));
        expect(statuses[winner % 3]).toBe(final.status);
        expect(final.error.message).toBe(`receipt ${winner}`);
      }
    });
  });

  describe('out of order (the receipt overtakes our own bookkeeping)', () => {
    it.each(['sending', 'queued'])('accepts a receipt for a message still %s, and a late delivery job leaves it alone', async (status) => {
      const sent = await sentSms();
      // The provider has the message and its id is known, but the service still shows it pending.
      await t.dataSource.query(`UPDATE messages SET status = $2, sent_at = NULL WHERE id = $1`, [sent.id, status]);
      const callsBefore = (await providerRequests(t)).length;

      const res = await receipt(sent.provider_message_id, 'delivered').expect(200);
      expect(res.body.message).toMatchObject({ id: sent.id, status: 'delivered', provider_message_id: sent.provider_message_id });
      expect(res.body.message.sent_at).not.toBeNull();

      // A delivery job that runs for it now (late, or a second copy) neither sends nor overwrites it.
      await t.app.get(DeliveryService).deliver(String(sent.id));
      expect((await t.http.get(`/api/messages/${sent.id}`)).body).toMatchObject({ status: 'delivered', sent_at: res.body.message.sent_at });
      expect((await providerRequests(t)).length).toBe(callsBefore);
    });
  });

  describe('a receipt held while the `sent` write waits for its lock', () => {
    it.each([
      ['of the provider', 'mock-sms'],
      ['naming no provider', null],
    ])('is applied by that write (receipt %s)', async (_, heldProvider) => {
      const sent = await sentSms();
      // The provider has answered; the service has not recorded `sent` yet.
      await t.dataSource.query(`UPDATE messages SET status = 'sending', provider_message_id = NULL, sent_at = NULL WHERE id = $1`, [sent.id]);
      // A receipt's transaction (apply()) holds the lock and is about to hold the receipt.
      const receiptTx = t.dataSource.createQueryRunner();
      await receiptTx.connect();
      try {
        await receiptTx.startTransaction();
        await receiptTx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [RECEIPT_LOCK_CLASS, sent.provider_message_id]);
        await receiptTx.query(`INSERT INTO early_receipts (provider, provider_message_id, status, error_code) VALUES ($1, $2, 'undelivered', '30003')`, [
          heldProvider,
          sent.provider_message_id,
        ]);
        const write = t.app.get(DeliveryReceiptsService).recordSent({
          messageId: String(sent.id),
          provider: 'mock-sms',
          providerMessageId: sent.provider_message_id,
          attempts: 1,
          sentAt: new Date(),
        });
        // The write waits for the lock; the receipt commits only then.
        await waitFor(
          async () =>
            (await t.count(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = $1 AND objsubid = 2 AND NOT granted`, [
              RECEIPT_LOCK_CLASS,
            ])) > 0,
          'the sent write to wait for the advisory lock',
          10_000,
          10,
        );
        await receiptTx.commitTransaction();
        await write;
      } finally {
        await receiptTx.release();
      }
      expect((await t.http.get(`/api/messages/${sent.id}`)).body).toMatchObject({
        status: 'undelivered',
        provider_message_id: sent.provider_message_id,
        error: { code: '30003' },
      });
      expect(await t.count('SELECT count(*) FROM early_receipts')).toBe(0);
    });

    it("leaves another provider's held receipt alone", async () => {
      const sent = await sentSms();
      await t.dataSource.query(`UPDATE messages SET status = 'sending', provider_message_id = NULL, sent_at = NULL WHERE id = $1`, [sent.id]);
      await t.dataSource.query(`INSERT INTO early_receipts (provider, provider_message_id, status) VALUES ('mock-email', $1, 'delivered')`, [
        sent.provider_message_id,
      ]);
      await t.app.get(DeliveryReceiptsService).recordSent({
        messageId: String(sent.id),
        provider: 'mock-sms',
        providerMessageId: sent.provider_message_id,
        attempts: 1,
        sentAt: new Date(),
      });
      expect((await t.http.get(`/api/messages/${sent.id}`)).body).toMatchObject({ status: 'sent', provider_message_id: sent.provider_message_id });
      expect(await t.count('SELECT count(*) FROM early_receipts')).toBe(1);
    });
  });

  describe('`sent` writes of rounds ending together', () => {
    it('are one call of record_sent_unless_held(); a message with a held receipt among them gets it applied, the others are sent', async () => {
      const sent = [await sentSms('a'), await sentSms('b'), await sentSms('c'), await sentSms('d')];
      for (const m of sent) {
        await t.dataSource.query(`UPDATE messages SET status = 'sending', provider_message_id = NULL, sent_at = NULL WHERE id = $1`, [m.id]);
      }
      await t.dataSource.query(`INSERT INTO early_receipts (provider, provider_message_id, status) VALUES ('mock-sms', $1, 'delivered')`, [
        sent[2].provider_message_id,
      ]);
      const capture = captureQueries(t.dataSource);
      try {
        const receipts = t.app.get(DeliveryReceiptsService);
        await Promise.all(
          sent.map((m) => receipts.recordSent({ messageId: String(m.id), provider: 'mock-sms', providerMessageId: m.provider_message_id, attempts: 1, sentAt: new Date() })),
        );
      } finally {
        capture.stop();
      }
      expect(capture.queries.filter((q) => q.sql.includes('record_sent_unless_held'))).toHaveLength(1);
      const after = await Promise.all(sent.map(async (m) => (await t.http.get(`/api/messages/${m.id}`)).body));
      expect(after.map((m) => [m.id, m.status, m.provider_message_id])).toEqual(
        sent.map((m, i) => [m.id, i === 2 ? 'delivered' : 'sent', m.provider_message_id]),
      );
      expect(await t.count('SELECT count(*) FROM early_receipts')).toBe(0);
    });
  });

  describe('errors', () => {
    it('answers 404 problem+json for an unknown provider_message_id, and for an inbound message', async () => {
      const unknown = await receipt('mock-nope', 'delivered').expect(404);
      expect(unknown.headers['content-type']).toContain('application/problem+json');
      expect(unknown.body).toMatchObject({ status: 404, code: 'not_found' });
      await t.http
        .post('/api/webhooks/sms')
        .send({ from: '+12015550123', to: '+12015550100', type: 'sms', messaging_provider_id: 'SM-IN-1', body: 'hi', attachments: null })
        .expect(200);
      await receipt('SM-IN-1', 'delivered').expect(404);
      expect((await t.http.get('/api/messages/1')).body.status).toBe('received');
    });

    it('answers 404 when the named provider does not have the id', async () => {
      const sent = await sentSms();
      await receipt(sent.provider_message_id, 'delivered', { provider: 'mock-email' }).expect(404);
      expect((await t.http.get(`/api/messages/${sent.id}`)).body.status).toBe('sent');
    });

    it('answers 409 when, without a provider, the id names messages of two providers; the provider settles it', async () => {
      const sms = await sentSms();
      const email = await t.http.post('/api/messages/email').send(emailBody()).expect(202);
      await waitForStatus(t, email.body.id, ['sent']);
      await t.dataSource.query(`UPDATE messages SET provider_message_id = 'shared-id' WHERE id IN ($1, $2)`, [sms.id, email.body.id]);
      const ambiguous = await receipt('shared-id', 'delivered').expect(409);
      expect(ambiguous.body.detail).toContain('provider');
      const res = await receipt('shared-id', 'delivered', { provider: 'mock-email' }).expect(200);
      expect(res.body.message).toMatchObject({ id: email.body.id, status: 'delivered' });
      expect((await t.http.get(`/api/messages/${sms.id}`)).body.status).toBe('sent');
    });

    it.each([
      [{ status: 'delivered' }, 'provider_message_id'],
      [{ provider_message_id: '', status: 'delivered' }, 'provider_message_id'],
      [{ provider_message_id: 42, status: 'delivered' }, 'provider_message_id'],
      [{ provider_message_id: 'x' }, 'status'],
      [{ provider_message_id: 'x', status: 'sent' }, 'status'],
      [{ provider_message_id: 'x', status: 'DELIVERED' }, 'status'],
      [{ provider_message_id: 'x', status: 'failed', error_code: 30003 }, 'error_code'],
      [{ provider_message_id: 'x', status: 'delivered', timestamp: '2025-05-21T18:00:05' }, 'timestamp'],
      [{ provider_message_id: 'x', status: 'delivered', provider: '' }, 'provider'],
    ])('answers 422 for %j', async (body, field) => {
      const res = await t.http.post('/api/webhooks/status').send(body).expect(422);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('answers 400 for malformed JSON', async () => {
      await t.http.post('/api/webhooks/status').set('Content-Type', 'application/json').send('{"provider_message_id":').expect(400);
    });
  });

  describe('retry after a failed receipt', () => {
    it('gives the message a new idempotency key, so the provider really sends it again', async () => {
      const sent = await sentSms('carrier lost it');
      const oldKey = await idempotencyKeyOf(t, sent.id);
      await receipt(sent.provider_message_id, 'failed', { error_code: '30008', error_message: 'Unknown error' }).expect(200);

      const requeued = await t.http.post(`/api/messages/${sent.id}/retry`).expect(202);
      expect(requeued.body).toMatchObject({ status: 'queued', attempts: 0, error: null, provider_message_id: null, sent_at: null });
      const again = await waitForStatus(t, sent.id, ['sent', 'failed']);
      expect(again.status).toBe('sent');
      const newKey = await idempotencyKeyOf(t, sent.id);
      expect(newKey).not.toBe(oldKey);
      expect(again.provider_message_id).not.toBe(sent.provider_message_id);
      const received = await providerReceived(t.mock);
      expect(received.map((r) => [r.idempotency_key, r.accepted_count])).toEqual([
        [oldKey, 1],
        [newKey, 1],
      ]);
      // The old id is gone with the old attempt; a receipt for the new one applies.
      await receipt(sent.provider_message_id, 'delivered').expect(404);
      await receipt(again.provider_message_id, 'delivered').expect(200);
    });
  });
});

describe('A receipt that arrives before the service has recorded `sent` (PROVIDER_TIMEOUT_MS=2000) (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ PROVIDER_TIMEOUT_MS: '2000' });
  });
  afterAll(async () => t.close());

  it('is held (202, message null) and applied when the message is recorded sent', async () => {
    // The provider takes the message (and gives it its id) but the connection is reset; the
    // inline retry hangs until its timeout; the third request gets the same id back.
    await script(t, [{ action: 'reset_after_read' }, { action: 'hang' }]);
    const id = await sendSms(t, 'fast carrier');
    await waitFor(async () => (await providerRequests(t)).some((r) => r.outcome === 'hang'), 'the second request to hang', 5_000, 20);
    const [taken] = await providerReceived(t.mock);
    expect((await t.http.get(`/api/messages/${id}`)).body).toMatchObject({ status: 'sending', provider_message_id: null });

    const early = await t.http
      .post('/api/webhooks/status')
      .send({ provider_message_id: taken.provider_message_id, status: 'undelivered', error_code: '30003', error_message: 'Unreachable handset' });
    expect(early.status).toBe(202);
    expect(early.body).toEqual({ received: true, message: null });
    expect(await t.count('SELECT count(*) FROM early_receipts')).toBe(1);

    const after = await waitForStatus(t, id, ['undelivered', 'sent', 'failed'], 10_000);
    expect(after).toMatchObject({
      status: 'undelivered',
      provider_message_id: taken.provider_message_id,
      error: { code: '30003', message: 'Unreachable handset' },
    });
    expect(after.sent_at).not.toBeNull();
    expect(await t.count('SELECT count(*) FROM early_receipts')).toBe(0);
    // A repeat of the receipt now finds the message and changes nothing.
    const again = await t.http.post('/api/webhooks/status').send({ provider_message_id: taken.provider_message_id, status: 'delivered' }).expect(200);
    expect(again.body.message).toMatchObject({ id, status: 'undelivered' });
  }, 30_000);
});
