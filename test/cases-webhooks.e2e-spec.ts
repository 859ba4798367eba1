import { startTestApp, TestApp } from './support/test-app';

/**
 * Cases C3, C4 and C9 of /work/shared/cases/README.md, and unknown webhook fields:
 * providers redeliver webhooks (also concurrently), send nulls and add fields.
 */
describe('Cases: inbound webhooks (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  const smsBody = (): Record<string, unknown> => ({
    from: '+12015550123',
    to: '+12015550100',
    type: 'sms',
    messaging_provider_id: 'SM-TEST-0001',
    body: 'Are you open today?',
    attachments: null,
    timestamp: '2024-11-01T14:00:00Z',
  });

  const emailBody = (): Record<string, unknown> => ({
    from: 'alice@example.com',
    to: 'support@example.com',
    xillio_id: 'XL-TEST-0001',
    body: '<p>Where is my order?</p>',
    attachments: [],
    timestamp: '2024-11-01T14:00:00Z',
  });

  const channels = [
    { name: 'sms', path: '/api/webhooks/sms', body: smsBody, idField: 'messaging_provider_id' },
    { name: 'email', path: '/api/webhooks/email', body: emailBody, idField: 'xillio_id' },
  ] as const;

  describe('C3: a provider redelivers a webhook', () => {
    it.each(channels)('stores the $name webhook once and answers 200 with the same message both times', async ({ path, body, idField }) => {
      const first = await t.http.post(path).send(body()).expect(200);
      const second = await t.http.post(path).send(body()).expect(200);
      expect(first.body.received).toBe(true);
      expect(second.body.received).toBe(true);
      expect(second.body.message.id).toBe(first.body.message.id);
      expect(second.body.message).toEqual(first.body.message);
      expect(first.body.message.provider_message_id).toBe(body()[idField]);

      expect(await t.count('SELECT count(*) FROM messages')).toBe(1);
      expect(await t.count('SELECT count(*) FROM messages WHERE provider_message_id = $1', [body()[idField]])).toBe(1);
      expect(await t.dataSource.query('SELECT message_count FROM conversations')).toEqual([{ message_count: 1 }]);
    });

    it('keeps the same provider message id on the two channels apart', async () => {
      const sms = await t.http.post('/api/webhooks/sms').send({ ...smsBody(), messaging_provider_id: 'SAME-1' }).expect(200);
      const email = await t.http.post('/api/webhooks/email').send({ ...emailBody(), xillio_id: 'SAME-1' }).expect(200);
      expect(email.body.message.id).not.toBe(sms.body.message.id);
      expect(await t.count('SELECT count(*) FROM messages')).toBe(2);
    });

    it('is backed by a unique constraint on (provider, provider_message_id)', async () => {
      const rows: { columns: string[] }[] = await t.dataSource.query(`
        SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
          FROM pg_constraint c
          CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         WHERE c.conrelid = 'messages'::regclass AND c.contype = 'u'
         GROUP BY c.oid`);
      expect(rows.map((r) => [...r.columns].sort())).toContainEqual(['provider', 'provider_message_id']);
    });
  });

  describe('C4: redeliveries racing', () => {
    it.each(channels)('answers ten concurrent copies of the $name webhook 200 and stores one row', async ({ path, body }) => {
      const responses = await Promise.all(Array.from({ length: 10 }, () => t.http.post(path).send(body())));
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(new Set(responses.map((r) => r.body.message.id)).size).toBe(1);
      expect(await t.count('SELECT count(*) FROM messages')).toBe(1);
      expect(await t.dataSource.query('SELECT message_count FROM conversations')).toEqual([{ message_count: 1 }]);
    });

    it('answers ten concurrent copies 200 also when the message already exists', async () => {
      const stored = await t.http.post('/api/webhooks/sms').send(smsBody()).expect(200);
      const responses = await Promise.all(Array.from({ length: 10 }, () => t.http.post('/api/webhooks/sms').send(smsBody())));
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(responses.map((r) => r.body.message.id)).toEqual(Array(10).fill(stored.body.message.id));
      expect(await t.count('SELECT count(*) FROM messages')).toBe(1);
    });
  });

  describe('C9: null where a value is required', () => {
    it('stores "attachments": null as []', async () => {
      const res = await t.http.post('/api/webhooks/sms').send({ ...smsBody(), attachments: null }).expect(200);
      expect(res.body.message.attachments).toEqual([]);
      const read = await t.http.get(`/api/messages/${res.body.message.id}`).expect(200);
      expect(read.body.attachments).toEqual([]);
      expect(await t.dataSource.query('SELECT attachments FROM messages')).toEqual([{ attachments: [] }]);

      const email = await t.http.post('/api/webhooks/email').send({ ...emailBody(), attachments: null }).expect(200);
      expect(email.body.message.attachments).toEqual([]);
      expect(await t.count(`SELECT count(*) FROM messages WHERE attachments = '[]'::jsonb`)).toBe(2);
    });

    const required = [
      ...['body', 'to', 'timestamp', 'from', 'type', 'messaging_provider_id'].map((field) => ({ channel: channels[0], field })),
      ...['body', 'to', 'timestamp', 'from', 'xillio_id'].map((field) => ({ channel: channels[1], field })),
    ];
    it.each(required)('answers 422 to the $channel.name webhook with "$field": null and stores nothing', async ({ channel, field }) => {
      const res = await t.http.post(channel.path).send({ ...channel.body(), [field]: null });
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 422 });
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await t.count('SELECT count(*) FROM messages')).toBe(0);
      expect(await t.count('SELECT count(*) FROM conversations')).toBe(0);
    });
  });

  describe('unknown fields on webhooks', () => {
    it('ignores fields a provider adds (200, stored, not echoed)', async () => {
      const sms = await t.http
        .post('/api/webhooks/sms')
        .send({ ...smsBody(), carrier: 'Example Wireless', num_segments: 2, meta: { region: 'NJ', tags: ['a'] }, account_sid: null })
        .expect(200);
      expect(sms.body.message).toMatchObject({ direction: 'inbound', status: 'received', body: 'Are you open today?' });
      for (const key of ['carrier', 'num_segments', 'meta', 'account_sid']) expect(sms.body.message).not.toHaveProperty(key);

      const email = await t.http
        .post('/api/webhooks/email')
        .send({ ...emailBody(), subject: 'Order', headers: { 'X-Spam-Score': '0.1' }, spam_score: 0.1 })
        .expect(200);
      expect(email.body.message).toMatchObject({ type: 'email', direction: 'inbound', status: 'received' });
      expect(await t.count('SELECT count(*) FROM messages')).toBe(2);
    });
  });
});
