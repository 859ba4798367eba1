import { deliveryJobsOf, emailBody, idempotencyKeyOf, sendSms, smsBody, waitForQueueIdle } from './support/messages';
import { providerReceived, providerRequests, script } from './support/mock-provider';
import { startTestApp, TestApp, waitForStatus } from './support/test-app';

/**
 * Dead letters and recovery (GET /api/messages with filters, POST /api/messages/:id/retry)
 * and `Prefer: wait` on the send endpoints. Each describe boots its own app and closes it
 * before the next one starts, so that only one delivery worker polls the shared queue.
 */

const rejection = (reason = 'The To number is not a mobile number') => ({
  action: 'status' as const,
  status: 400,
  body: { error: { code: 'invalid_number', message: reason } },
});

describe('GET /api/messages and POST /api/messages/:id/retry (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  /**
   * Stores, in this order: 1 sms sent, 2 sms failed (provider 400), 3 mms sent,
   * 4 email sent, 5 inbound sms, 6 email failed (provider 400), 7 inbound email.
   * Conversations: 1 (+12015550100/+12015550123: ids 1, 2, 3, 5), 2 (team/ann: 4, 6, 7).
   */
  async function seed(): Promise<void> {
    await waitForStatus(t, await sendSms(t, 'one'), ['sent']);
    await script(t, [rejection()]);
    await waitForStatus(t, await sendSms(t, 'two'), ['failed']);
    const mms = await t.http.post('/api/messages/sms').send(smsBody('three', { type: 'mms', attachments: ['https://example.com/a.png'] })).expect(202);
    await waitForStatus(t, mms.body.id, ['sent']);
    const email = await t.http.post('/api/messages/email').send(emailBody('<p>four</p>')).expect(202);
    await waitForStatus(t, email.body.id, ['sent']);
    await t.http
      .post('/api/webhooks/sms')
      .send({ from: '+12015550123', to: '+12015550100', type: 'sms', messaging_provider_id: 'in-5', body: 'five', attachments: null })
      .expect(200);
    await script(t, [rejection('mailbox unavailable')]);
    const failedEmail = await t.http.post('/api/messages/email').send(emailBody('<p>six</p>')).expect(202);
    await waitForStatus(t, failedEmail.body.id, ['failed']);
    await t.http
      .post('/api/webhooks/email')
      .send({ from: 'ann@example.com', to: 'team@example.com', xillio_id: 'in-7', body: '<p>seven</p>', attachments: [] })
      .expect(200);
    await waitForQueueIdle(t);
  }

  const ids = (res: { body: Array<{ id: number }> }) => res.body.map((m) => m.id);

  describe('listing (seeded once, read only)', () => {
    beforeAll(async () => {
      await t.reset();
      await seed();
    });

    it('lists every message newest first with X-Total-Count and Link', async () => {
      const res = await t.http.get('/api/messages').expect(200);
      expect(ids(res)).toEqual([7, 6, 5, 4, 3, 2, 1]);
      expect(res.headers['x-total-count']).toBe('7');
      expect(res.headers.link).toContain('rel="first"');
      expect(res.body[1]).toMatchObject({ id: 6, type: 'email', direction: 'outbound', status: 'failed', error: { code: 'provider_rejected' } });
    });

    it('filters by status, conversation_id, type and direction, alone and combined', async () => {
      const list = async (query: string) => {
        const res = await t.http.get(`/api/messages?${query}`).expect(200);
        expect(res.headers['x-total-count']).toBe(String(res.body.length));
        return ids(res);
      };
      expect(await list('status=failed')).toEqual([6, 2]);
      expect(await list('status=sent')).toEqual([4, 3, 1]);
      expect(await list('status=received')).toEqual([7, 5]);
      expect(await list('status=delivered')).toEqual([]);
      expect(await list('conversation_id=1')).toEqual([5, 3, 2, 1]);
      expect(await list('conversation_id=2')).toEqual([7, 6, 4]);
      expect(await list('type=sms')).toEqual([5, 2, 1]);
      expect(await list('type=mms')).toEqual([3]);
      expect(await list('type=email')).toEqual([7, 6, 4]);
      expect(await list('direction=inbound')).toEqual([7, 5]);
      expect(await list('direction=outbound')).toEqual([6, 4, 3, 2, 1]);
      expect(await list('status=failed&conversation_id=1&type=sms')).toEqual([2]);
      expect(await list('status=failed&type=email&direction=outbound')).toEqual([6]);
      expect(await list('status=failed&conversation_id=2&type=sms')).toEqual([]);
      expect(await list('conversation_id=999')).toEqual([]);
      expect(await list('status=failed&colour=red')).toEqual([6, 2]); // unknown parameters are ignored
    });

    it('pages through a filtered list, keeping the filters in the Link header', async () => {
      const first = await t.http.get('/api/messages?direction=outbound&per_page=2').expect(200);
      expect(ids(first)).toEqual([6, 4]);
      expect(first.headers['x-total-count']).toBe('5');
      const link = first.headers.link as string;
      expect(link).toContain('</api/messages?direction=outbound&per_page=2&page=2>; rel="next"');
      expect(link).toContain('</api/messages?direction=outbound&per_page=2&page=3>; rel="last"');
      expect(link).not.toContain('rel="prev"');
      const second = await t.http.get('/api/messages?direction=outbound&per_page=2&page=2').expect(200);
      expect(ids(second)).toEqual([3, 2]);
      expect(second.headers.link).toContain('page=1>; rel="prev"');
      const third = await t.http.get('/api/messages?direction=outbound&per_page=2&page=3').expect(200);
      expect(ids(third)).toEqual([1]);
      expect(third.headers.link).not.toContain('rel="next"');
      const beyond = await t.http.get('/api/messages?direction=outbound&per_page=2&page=9').expect(200);
      expect(beyond.body).toEqual([]);
      expect(beyond.headers['x-total-count']).toBe('5');
    });

    it.each([
      ['status=bogus', 'status'],
      ['status=', 'status'],
      ['status=failed&status=sent', 'status'],
      ['type=fax', 'type'],
      ['direction=sideways', 'direction'],
      ['conversation_id=abc', 'conversation_id'],
      ['conversation_id=0', 'conversation_id'],
      ['conversation_id=-1', 'conversation_id'],
      ['conversation_id=1.5', 'conversation_id'],
      ['conversation_id=99999999999999999999', 'conversation_id'],
      ['page=0', 'page'],
      ['per_page=101', 'per_page'],
    ])('answers 422 problem+json for %s', async (query, field) => {
      const res = await t.http.get(`/api/messages?${query}`).expect(422);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    });
  });

  it('documents the list, retry, status webhook and Prefer: wait in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const list = doc.paths['/api/messages'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['status', 'conversation_id', 'type', 'direction', 'page', 'per_page']));
    expect(Object.keys(list.responses)).toEqual(expect.arrayContaining(['200', '422']));
    const retry = doc.paths['/api/messages/{id}/retry'].post;
    expect(Object.keys(retry.responses)).toEqual(expect.arrayContaining(['200', '202', '404', '409']));
    const status = doc.paths['/api/webhooks/status'].post;
    expect(Object.keys(status.responses)).toEqual(expect.arrayContaining(['200', '404', '422']));
    for (const path of ['/messages/send', '/api/messages/sms', '/api/messages/email']) {
      const send = doc.paths[path].post;
      expect(send.parameters.find((p: { name: string; in: string }) => p.name === 'Prefer' && p.in === 'header')).toBeDefined();
      expect(Object.keys(send.responses)).toEqual(expect.arrayContaining(['200', '202']));
      expect(send.responses['200'].headers['Preference-Applied']).toBeDefined();
    }
  });

  describe('listing (own data)', () => {
    beforeEach(async () => t.reset());

    /** Inserts `n` outbound sms rows straight into the database (ids 1..n), all with one created_at. */
    async function insertMessages(n: number, status = 'failed', createdAt = '2025-01-01T00:00:00Z'): Promise<void> {
      await t.dataSource.query(`INSERT INTO conversations (channel, participants) VALUES ('sms', ARRAY['+12015550100', '+12015550123'])`);
      await t.dataSource.query(
        `INSERT INTO messages (conversation_id, type, direction, status, from_address, to_address, body, timestamp, provider, created_at)
         SELECT 1, 'sms', 'outbound', $1, '+12015550100', '+12015550123', 'n' || i, now(), 'mock-sms', $2 FROM generate_series(1, $3::int) AS i`,
        [status, createdAt, n],
      );
    }

    it('breaks created_at ties by id, newest id first', async () => {
      await insertMessages(5);
      expect(ids(await t.http.get('/api/messages').expect(200))).toEqual([5, 4, 3, 2, 1]);
      await t.dataSource.query(`UPDATE messages SET created_at = '2024-01-01T00:00:00Z' WHERE id = 5`);
      await t.dataSource.query(`UPDATE messages SET created_at = '2026-01-01T00:00:00Z' WHERE id = 1`);
      expect(ids(await t.http.get('/api/messages?status=failed').expect(200))).toEqual([1, 4, 3, 2, 5]);
    });

    it('defaults to 50 per page and answers an empty database with []', async () => {
      const empty = await t.http.get('/api/messages').expect(200);
      expect(empty.body).toEqual([]);
      expect(empty.headers['x-total-count']).toBe('0');
      await insertMessages(60);
      const res = await t.http.get('/api/messages?status=failed').expect(200);
      expect(res.body).toHaveLength(50);
      expect(res.headers['x-total-count']).toBe('60');
      expect(res.body[0].id).toBe(60);
    });
  });

  describe('retry', () => {
    beforeEach(async () => t.reset());

    it('re-queues a message the provider refused, with the same idempotency key, and it ends sent', async () => {
      await script(t, [rejection()]);
      const id = await sendSms(t, 'retry me');
      const failed = await waitForStatus(t, id, ['failed']);
      expect(failed).toMatchObject({ attempts: 1, error: { code: 'provider_rejected' } });
      const key = await idempotencyKeyOf(t, id);
      await waitForQueueIdle(t);

      const res = await t.http.post(`/api/messages/${id}/retry`).expect(202);
      expect(res.body).toMatchObject({ id, status: 'queued', attempts: 0, error: null, provider_message_id: null, sent_at: null });
      const sent = await waitForStatus(t, id, ['sent', 'failed']);
      expect(sent).toMatchObject({ status: 'sent', attempts: 1, error: null });
      expect(await idempotencyKeyOf(t, id)).toBe(key);
      expect((await providerRequests(t)).map((r) => [r.outcome, r.idempotency_key])).toEqual([
        ['status:400', key],
        ['accepted', key],
      ]);
      expect(await deliveryJobsOf(t, id)).toBe(2);
      const listed = await t.http.get('/api/messages?status=failed').expect(200);
      expect(listed.body).toEqual([]);
    });

    it('gives a retried message a new delivery window: one older than DELIVERY_MAX_AGE_S (1 day) is sent, not expired', async () => {
      await script(t, [rejection()]);
      const id = await sendSms(t, 'refused two days ago');
      await waitForStatus(t, id, ['failed']);
      await waitForQueueIdle(t);
      await t.dataSource.query(
        `UPDATE messages SET created_at = now() - interval '2 days', accepted_at = now() - interval '2 days' WHERE id = $1`,
        [id],
      );

      await t.http.post(`/api/messages/${id}/retry`).expect(202);
      const after = await waitForStatus(t, id, ['sent', 'failed']);
      expect(after).toMatchObject({ status: 'sent', error: null });
      expect(Date.parse(after.created_at)).toBeLessThan(Date.now() - 86_400_000);
    });

    it('answers 409 problem+json for a message that is queued, sent or inbound, and changes nothing', async () => {
      const sent = await sendSms(t, 'fine');
      await waitForStatus(t, sent, ['sent']);
      const inbound = await t.http
        .post('/api/webhooks/sms')
        .send({ from: '+12015550123', to: '+12015550100', type: 'sms', messaging_provider_id: 'in-1', body: 'hi', attachments: null })
        .expect(200);
      await t.dataSource.query(`INSERT INTO messages (conversation_id, type, direction, status, from_address, to_address, body, timestamp, provider)
        VALUES (1, 'sms', 'outbound', 'queued', '+12015550100', '+12015550123', 'waiting', now(), 'mock-sms')`);
      const queued = 3;
      await waitForQueueIdle(t);
      const before = await t.stored();

      for (const id of [sent, inbound.body.message.id, queued]) {
        const res = await t.http.post(`/api/messages/${id}/retry`).expect(409);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body).toMatchObject({ status: 409, code: 'conflict' });
      }
      expect((await t.http.post(`/api/messages/${sent}/retry`)).body.detail).toContain('sent');
      expect((await t.http.post(`/api/messages/${inbound.body.message.id}/retry`)).body.detail).toContain('inbound');
      expect(await t.stored()).toEqual(before);
      expect((await t.http.get(`/api/messages/${sent}`)).body.status).toBe('sent');
    });

    it('answers 404 for an unknown message and 422 for a malformed id', async () => {
      const missing = await t.http.post('/api/messages/4242/retry').expect(404);
      expect(missing.headers['content-type']).toContain('application/problem+json');
      await t.http.post('/api/messages/abc/retry').expect(422);
    });

    it('re-queues once when retries race: one 202, the others 409, one new job', async () => {
      await script(t, [rejection(), rejection(), rejection(), rejection()]);
      const id = await sendSms(t, 'raced');
      await waitForStatus(t, id, ['failed']);
      await waitForQueueIdle(t);
      const answers = await Promise.all(Array.from({ length: 8 }, () => t.http.post(`/api/messages/${id}/retry`)));
      expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409, 409, 409, 409, 409, 409]);
      expect(await deliveryJobsOf(t, id)).toBe(2);
    });
  });
});

describe('Retry after retries_exhausted with DELIVERY_MAX_ATTEMPTS=1 (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DELIVERY_MAX_ATTEMPTS: '1' });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('keeps the idempotency key, so a provider that already took the message does not send it twice', async () => {
    // The provider accepts the message, then the connection drops: we never learn it was taken.
    await script(t, [{ action: 'reset_after_read' }]);
    const id = await sendSms(t, 'taken, unheard');
    const failed = await waitForStatus(t, id, ['failed', 'sent']);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, provider_message_id: null, error: { code: 'retries_exhausted' } });
    await waitForQueueIdle(t);

    await t.http.post(`/api/messages/${id}/retry`).expect(202);
    const sent = await waitForStatus(t, id, ['sent', 'failed']);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1 });
    const received = await providerReceived(t.mock);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ idempotency_key: await idempotencyKeyOf(t, id), accepted_count: 2 });
    expect(sent.provider_message_id).toBe(received[0].provider_message_id);
  });
});

describe('Prefer: wait on the send endpoints (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it.each([
    ['/api/messages/sms', () => smsBody('wait sms')],
    ['/api/messages/email', () => emailBody('<p>wait email</p>')],
    ['/messages/send', () => ({ ...smsBody('wait send'), from: undefined, from_: '+12015550100' })],
  ])('%s with Prefer: wait=5 answers 200 with the sent message and Preference-Applied', async (path, body) => {
    const res = await t.http.post(path).set('Prefer', 'wait=5').send(body()).expect(200);
    expect(res.headers['preference-applied']).toBe('wait=5');
    expect(res.body).toMatchObject({ status: 'sent', attempts: 1, error: null });
    expect(res.body.provider_message_id).toMatch(/^mock-/);
    expect(res.body.sent_at).not.toBeNull();
  });

  it('answers 200 with the failed message when the provider refuses it (400)', async () => {
    await script(t, [rejection('Unknown destination')]);
    const res = await t.http.post('/api/messages/sms').set('Prefer', 'respond-async, wait=5').send(smsBody('refused')).expect(200);
    expect(res.headers['preference-applied']).toBe('wait=5');
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'provider_rejected', message: 'Unknown destination' } });
  });

  it('caps the wait at 30 seconds in Preference-Applied', async () => {
    const res = await t.http.post('/api/messages/sms').set('Prefer', 'wait=3600').send(smsBody('capped')).expect(200);
    expect(res.headers['preference-applied']).toBe('wait=30');
  });

  it('answers 202 at once without Prefer, with wait=0 and with a malformed wait', async () => {
    for (const prefer of [undefined, 'wait=0', 'wait=soon']) {
      const req = t.http.post('/api/messages/sms');
      if (prefer) req.set('Prefer', prefer);
      const res = await req.send(smsBody(`no wait ${prefer}`)).expect(202);
      expect(res.body.status).toBe('queued');
      expect(res.headers['preference-applied']).toBeUndefined();
    }
  });

  it('a retry with Prefer: wait answers 200 once the message is sent again', async () => {
    await script(t, [rejection()]);
    const id = await sendSms(t, 'retry and wait');
    await waitForStatus(t, id, ['failed']);
    const res = await t.http.post(`/api/messages/${id}/retry`).set('Prefer', 'wait=5').expect(200);
    expect(res.body).toMatchObject({ id, status: 'sent' });
  });
});

describe('Prefer: wait against a slow provider (mock answers after 3 s), DATABASE_POOL_SIZE=5 (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DATABASE_POOL_SIZE: '5' }, { latencyMs: 3000 });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('answers 202 with the message still queued or sending when the wait runs out first', async () => {
    const started = Date.now();
    const res = await t.http.post('/api/messages/sms').set('Prefer', 'wait=1').send(smsBody('slow')).expect(202);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(1900);
    expect(res.headers['preference-applied']).toBe('wait=1');
    expect(['queued', 'sending']).toContain(res.body.status);
    const sent = await waitForStatus(t, res.body.id, ['sent', 'failed'], 10_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1 });
    await waitForQueueIdle(t);
  });

  it('holds no database connection while waiting: more waiting requests than pooled connections, reads still fast', async () => {
    // 30 waiting requests; the pool has 5 connections.
    expect((t.dataSource.driver as unknown as { master: { options: { max: number } } }).master.options.max).toBe(5);
    const started = Date.now();
    const waits = Array.from({ length: 30 }, (_, i) => t.http.post('/api/messages/sms').set('Prefer', 'wait=2').send(smsBody(`waiting ${i}`)));
    await new Promise((r) => setTimeout(r, 800));
    const readStarted = Date.now();
    await t.http.get('/api/messages?per_page=1').expect(200);
    expect(Date.now() - readStarted).toBeLessThan(500);

    const answers = await Promise.all(waits);
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(202));
    for (const a of answers) {
      expect(['queued', 'sending']).toContain(a.body.status);
      expect(a.headers['preference-applied']).toBe('wait=2');
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(6000);
    await waitForQueueIdle(t, 20_000);
    expect(await t.count(`SELECT count(*) FROM messages WHERE status = 'sent'`)).toBe(30);
  });
});
