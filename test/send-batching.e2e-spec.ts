import { smsBody } from './support/messages';
import { captureQueries } from './support/query-capture';
import { startTestApp, type TestApp, waitFor } from './support/test-app';

/** Our number, the sender of every send here. */
const OURS = '+12015550100';
/** Recipient n: +1804555 0000 + n. */
const recipient = (n: number) => `+1804555${String(n).padStart(4, '0')}`;

/**
 * Concurrent sends share transactions (MessagesService.storeQueuedBatch, gathered by a
 * NaturalBatcher: at most 2 batches at once per process). Each request still gets its
 * own answer: 202 with its own message, or its own 422 when its recipient opted out,
 * and the conversations count exactly the messages stored.
 */
describe('Send batching (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ ROLE: 'api', RATE_LIMIT_REQUESTS: '0' });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => {
    await t.reset(); // no queued jobs left for the workers of later test files
    await t.close();
  });

  /** Sends an SMS from our number; the request starts at once (a supertest request starts when awaited). */
  const send = (to: string, body = 'hello') =>
    t.http
      .post('/api/messages/sms')
      .send(smsBody(body, { from: OURS, to }))
      .then((res) => res);

  /** Stores an opt-out of `who` from our number (as a STOP reply does). */
  const optOut = (who: string) =>
    t.dataSource.query(`INSERT INTO opt_outs (channel, sender, recipient, keyword) VALUES ('sms', $1, $2, 'STOP')`, [OURS, who]);

  it('gathers the sends made while two batches are held into one transaction; each gets its own message', async () => {
    const capture = captureQueries(t.dataSource);
    const held = t.dataSource.createQueryRunner();
    try {
      // Hold recipient 1's conversation: the batches that count a message in it wait.
      expect((await send(recipient(1), 'first')).status).toBe(202);
      await held.startTransaction();
      await held.query(`SELECT 1 FROM conversations FOR UPDATE`);
      capture.queries.length = 0;
      const waitingOnLock = () =>
        t.count(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR NO KEY UPDATE%'`);
      const blocked = [send(recipient(1), 'held 1')];
      await waitFor(async () => (await waitingOnLock()) === 1, 'the first batch to wait for the lock');
      blocked.push(send(recipient(1), 'held 2'));
      await waitFor(async () => (await waitingOnLock()) === 2, 'the second batch to wait for the lock');
      // Both batches are busy: these 20 gather in the next one.
      const gathered = Array.from({ length: 20 }, (_, i) => send(recipient(100 + i), `gathered ${i}`));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await held.commitTransaction();
      const answers = await Promise.all([...blocked, ...gathered]);
      expect(answers.map((res) => res.status)).toEqual(Array(22).fill(202));
      expect(capture.queries.filter((q) => /^START TRANSACTION/i.test(q.sql))).toHaveLength(3);
      expect(answers.slice(2).map((res) => [res.body.to, res.body.body])).toEqual(
        Array.from({ length: 20 }, (_, i) => [recipient(100 + i), `gathered ${i}`]),
      );
      expect(new Set(answers.map((res) => res.body.id)).size).toBe(22);
    } finally {
      if (held.isTransactionActive) await held.rollbackTransaction();
      await held.release();
      capture.stop();
    }
    expect(await t.stored()).toEqual({ messages: 23, conversations: 21, jobs: 23 });
  });

  it('refuses only the opted-out sends of a batch; the others are stored and counted once', async () => {
    await optOut(recipient(2));
    await optOut(recipient(5));
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => send(recipient(i % 6), `message ${i}`)), // recipients 0..5, five sends each
    );
    const refused = answers.filter((res) => res.status === 422);
    expect(refused.map((res) => res.body.code)).toEqual(Array(10).fill('recipient_opted_out'));
    expect(answers.filter((res) => res.status === 202)).toHaveLength(20);
    for (const [i, res] of answers.entries()) {
      const optedOut = i % 6 === 2 || i % 6 === 5;
      expect([i, res.status, optedOut ? res.body.detail : res.body.body]).toEqual([
        i,
        optedOut ? 422 : 202,
        optedOut ? expect.stringContaining(`${recipient(i % 6)} opted out`) : `message ${i}`,
      ]);
    }
    const conversations: { participants: string[]; message_count: number }[] = await t.dataSource.query(
      `SELECT participants, message_count FROM conversations ORDER BY id`,
    );
    expect(conversations.map((c) => [c.participants.find((p) => p !== OURS), c.message_count]).sort()).toEqual(
      [0, 1, 3, 4].map((n) => [recipient(n), 5]),
    );
    expect(await t.stored()).toEqual({ messages: 20, conversations: 4, jobs: 20 });
  });
});
