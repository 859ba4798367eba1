import { deliveryJobsOf, waitForQueueIdle } from './support/messages';
import { providerReceived, providerRequests, script } from './support/mock-provider';
import { startTestApp, TestApp, waitFor, waitForStatus } from './support/test-app';

/**
 * Delivery under provider faults (cases C6, C7 and the retry rules of design.md):
 * 429 with Retry-After (seconds and HTTP-date), a reset connection after the provider
 * read the request, permanent 4xx, 5xx storms, timeouts, a Retry-After longer than the
 * inline cap, and one idempotency key per message. Each describe boots its own app
 * (the env variant it needs) and closes it before the next one starts, so that only
 * one delivery worker polls the shared queue at a time.
 */

/** Sends an SMS through the client API and returns the new message's id. */
async function sendSms(t: TestApp, body = 'delivery test'): Promise<number> {
  const res = await t.http
    .post('/api/messages/sms')
    .send({ from: '+12015550100', to: '+12015550123', type: 'sms', body, attachments: [], timestamp: '2024-11-01T14:00:00Z' })
    .expect(202);
  expect(res.body.status).toBe('queued');
  return res.body.id as number;
}

/** The idempotency key the service stored for a message (not part of the API). */
async function idempotencyKeyOf(t: TestApp, id: number): Promise<string> {
  const rows: Array<{ idempotency_key: string }> = await t.dataSource.query('SELECT idempotency_key FROM messages WHERE id = $1', [id]);
  expect(rows).toHaveLength(1);
  return rows[0].idempotency_key;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Delivery with default retry settings (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('C6: retries a POST answered 429 twice, waiting out Retry-After: 2 each time', async () => {
    await script(t, [
      { action: 'status', status: 429, retry_after: '2' },
      { action: 'status', status: 429, retry_after: '2' },
    ]);
    const id = await sendSms(t, 'C6');
    const sent = await waitForStatus(t, id, ['sent', 'failed'], 15_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 3, error: null });
    expect(sent.provider_message_id).toMatch(/^mock-/);
    await waitForQueueIdle(t);

    const calls = await providerRequests(t);
    expect(calls.map((c) => c.outcome)).toEqual(['status:429', 'status:429', 'accepted']);
    const key = await idempotencyKeyOf(t, id);
    expect(calls.map((c) => c.idempotency_key)).toEqual([key, key, key]);
    expect(calls[1].at_ms - calls[0].at_ms).toBeGreaterThanOrEqual(2000);
    expect(calls[2].at_ms - calls[1].at_ms).toBeGreaterThanOrEqual(2000);
    // Retried by our retry condition inside one job (axios-retry's default would not retry a POST).
    expect(await deliveryJobsOf(t, id)).toBe(1);
    const received = await providerReceived(t.mock);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ body: 'C6', accepted_count: 1 });
  });

  it('honours a Retry-After given as an HTTP-date', async () => {
    // HTTP-dates have whole seconds: the date lies 3..4 s ahead now and >= 1.4 s ahead
    // when the first request arrives (the worker polls every 0.5 s).
    const retryAt = new Date(Date.now() + 4000);
    const retryAfter = retryAt.toUTCString();
    const retryAtMs = Date.parse(retryAfter);
    await script(t, [{ action: 'status', status: 429, retry_after: retryAfter }]);
    const id = await sendSms(t, 'http-date');
    const sent = await waitForStatus(t, id, ['sent', 'failed'], 15_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
    await waitForQueueIdle(t);

    const calls = await providerRequests(t);
    expect(calls.map((c) => c.outcome)).toEqual(['status:429', 'accepted']);
    expect(await deliveryJobsOf(t, id)).toBe(1);
    expect(retryAtMs - calls[0].at_ms).toBeGreaterThan(1000);
    // Not before the date (a few ms of timer slack), so far more than the test's 200 ms backoff cap.
    expect(calls[1].at_ms).toBeGreaterThanOrEqual(retryAtMs - 20);
    expect(calls[1].at_ms - calls[0].at_ms).toBeGreaterThan(1000);
  });

  it('C7: a connection reset after the provider read the request is retried with the same key, sent once', async () => {
    await script(t, [{ action: 'reset_after_read' }, { action: 'accept' }]);
    const id = await sendSms(t, 'C7');
    const sent = await waitForStatus(t, id, ['sent', 'failed'], 15_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2, error: null });
    await waitForQueueIdle(t);

    const key = await idempotencyKeyOf(t, id);
    const calls = await providerRequests(t);
    expect(calls.map((c) => c.outcome)).toEqual(['reset', 'accepted']);
    expect(await deliveryJobsOf(t, id)).toBe(1);
    expect(calls.map((c) => c.idempotency_key)).toEqual([key, key]);
    const received = await providerReceived(t.mock);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ idempotency_key: key, body: 'C7', accepted_count: 2 });
    expect(sent.provider_message_id).toBe(received[0].provider_message_id);
    expect(await t.count('SELECT count(*) FROM messages')).toBe(1);
  });

  it("fails a message at once on a permanent 400, with the provider's reason and one provider call", async () => {
    const reason = 'The "To" number +12015550123 is not a mobile number';
    await script(t, [{ action: 'status', status: 400, body: { error: { code: 'invalid_recipient', message: reason } } }]);
    const id = await sendSms(t, 'rejected');
    const failed = await waitForStatus(t, id, ['sent', 'failed'], 15_000);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, provider_message_id: null, sent_at: null });
    expect(failed.error.code).toBe('provider_rejected');
    expect(failed.error.message).toContain(reason);
    await waitForQueueIdle(t);

    const calls = await providerRequests(t);
    expect(calls.map((c) => c.outcome)).toEqual(['status:400']);
    expect(await providerReceived(t.mock)).toEqual([]);
  });
});

describe('Delivery with DELIVERY_MAX_ATTEMPTS=3 and one inline retry (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // One inline retry: the three attempts span two queue jobs (2 inline, then 1 deferred).
    t = await startTestApp({ DELIVERY_MAX_ATTEMPTS: '3', PROVIDER_INLINE_RETRIES: '1' });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('fails a message with retries_exhausted after exactly 3 provider calls in a 503 storm', async () => {
    await script(t, Array.from({ length: 6 }, () => ({ action: 'status' as const, status: 503 })));
    const id = await sendSms(t, 'storm');
    const failed = await waitForStatus(t, id, ['sent', 'failed'], 15_000);
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, provider_message_id: null });
    expect(failed.error.code).toBe('retries_exhausted');
    expect(failed.error.message).toContain('503');
    await waitForQueueIdle(t);
    await sleep(300);

    const calls = await providerRequests(t);
    expect(calls.map((c) => c.outcome)).toEqual(['status:503', 'status:503', 'status:503']);
    const key = await idempotencyKeyOf(t, id);
    expect(calls.map((c) => c.idempotency_key)).toEqual([key, key, key]);
    // Two inline attempts, then one deferred job with the one attempt left.
    expect(await deliveryJobsOf(t, id)).toBe(2);
    expect(await providerReceived(t.mock)).toEqual([]);
    const again = await t.http.get(`/api/messages/${id}`).expect(200);
    expect(again.body).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('sends the same Idempotency-Key on every request of a message, inline and deferred, and a different one per message', async () => {
    await script(t, [
      { action: 'status', status: 503 },
      { action: 'status', status: 502 },
    ]);
    const first = await sendSms(t, 'key-1');
    const sent = await waitForStatus(t, first, ['sent', 'failed'], 15_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 3 });
    await waitForQueueIdle(t);
    const second = await sendSms(t, 'key-2');
    await waitForStatus(t, second, ['sent'], 15_000);
    await waitForQueueIdle(t);

    const firstKey = await idempotencyKeyOf(t, first);
    const secondKey = await idempotencyKeyOf(t, second);
    expect(firstKey).not.toBe(secondKey);
    const calls = await providerRequests(t);
    expect(calls.map((c) => c.outcome)).toEqual(['status:503', 'status:502', 'accepted', 'accepted']);
    expect(calls.map((c) => c.idempotency_key)).toEqual([firstKey, firstKey, firstKey, secondKey]);
    const received = await providerReceived(t.mock);
    expect(received.map((r) => [r.idempotency_key, r.accepted_count])).toEqual([
      [firstKey, 1],
      [secondKey, 1],
    ]);
  });
});

describe('Delivery with PROVIDER_TIMEOUT_MS=500 (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ PROVIDER_TIMEOUT_MS: '500' });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('times out an attempt to a hanging provider and sends the message on the retry', async () => {
    await script(t, [{ action: 'hang' }]);
    const id = await sendSms(t, 'hang');
    const sent = await waitForStatus(t, id, ['sent', 'failed'], 10_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2, error: null });
    await waitForQueueIdle(t);

    const key = await idempotencyKeyOf(t, id);
    const calls = await providerRequests(t);
    expect(calls.map((c) => c.outcome)).toEqual(['hang', 'accepted']);
    expect(await deliveryJobsOf(t, id)).toBe(1);
    expect(calls.map((c) => c.idempotency_key)).toEqual([key, key]);
    // The retry came after the 500 ms timeout, not after a 10 s default.
    expect(calls[1].at_ms - calls[0].at_ms).toBeGreaterThanOrEqual(490);
    expect(calls[1].at_ms - calls[0].at_ms).toBeLessThan(5000);
  });
});

describe('Delivery with PROVIDER_RETRY_AFTER_MAX_S=1, DELIVERY_DEFER_MAX_S=4 and one worker slot (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // One job at a time: a worker held by a long Retry-After would block every other message.
    t = await startTestApp({ PROVIDER_RETRY_AFTER_MAX_S: '1', DELIVERY_DEFER_MAX_S: '4', DELIVERY_CONCURRENCY: '1' });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('defers a message whose Retry-After exceeds the cap back to queued, frees the worker, and sends it no earlier than Retry-After', async () => {
    await script(t, [{ action: 'status', status: 429, retry_after: '3', path: '/sms' }]);
    const id = await sendSms(t, 'deferred');
    // The 202 answer was `queued` too: wait for the first attempt to be recorded.
    const queued = await waitFor(
      async () => {
        const res = await t.http.get(`/api/messages/${id}`);
        return res.body.attempts >= 1 ? (res.body as Record<string, any>) : undefined;
      },
      'the first attempt to be recorded',
      10_000,
    );
    expect(queued).toMatchObject({ status: 'queued', attempts: 1 });
    expect(queued.error.code).toBe('provider_unavailable');
    expect(queued.error.message).toContain('429');

    // The worker is free: a message to another provider (mock-email; the 429 paused
    // mock-sms as a whole) goes out while the first one waits.
    const other = (
      await t.http.post('/api/messages/email').send({ from: 'app@example.com', to: 'user@example.com', body: 'meanwhile', attachments: [] }).expect(202)
    ).body.id as number;
    const otherSent = await waitForStatus(t, other, ['sent'], 2_500);
    const firstNow = (await t.http.get(`/api/messages/${id}`).expect(200)).body;
    expect(firstNow.status).toBe('queued');

    const sent = await waitForStatus(t, id, ['sent', 'failed'], 10_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2, error: null });
    await waitForQueueIdle(t);

    const key = await idempotencyKeyOf(t, id);
    const calls = await providerRequests(t);
    const ofFirst = calls.filter((c) => c.idempotency_key === key);
    expect(ofFirst.map((c) => c.outcome)).toEqual(['status:429', 'accepted']);
    expect(ofFirst[1].at_ms - ofFirst[0].at_ms).toBeGreaterThanOrEqual(3000);
    expect(await deliveryJobsOf(t, id)).toBe(2);
    const ofOther = calls.filter((c) => c.idempotency_key !== key);
    expect(ofOther.map((c) => c.outcome)).toEqual(['accepted']);
    expect(ofOther[0].at_ms).toBeLessThan(ofFirst[1].at_ms);
    expect(Date.parse(otherSent.sent_at)).toBeLessThan(Date.parse(sent.sent_at));
  });

  it('caps an absurd Retry-After (one day) at DELIVERY_DEFER_MAX_S instead of parking the message for a day', async () => {
    await script(t, [{ action: 'status', status: 429, retry_after: '86400', path: '/sms' }]);
    const id = await sendSms(t, 'absurd retry-after');
    const sent = await waitForStatus(t, id, ['sent', 'failed'], 15_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
    const key = await idempotencyKeyOf(t, id);
    const ofMessage = (await providerRequests(t)).filter((c) => c.idempotency_key === key);
    expect(ofMessage.map((c) => c.outcome)).toEqual(['status:429', 'accepted']);
    const gap = ofMessage[1].at_ms - ofMessage[0].at_ms;
    expect(gap).toBeGreaterThanOrEqual(3_000);
    expect(gap).toBeLessThan(12_000);
  });
});
