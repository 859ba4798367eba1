import { MessageSegments1795970000000 } from '../migrations/1795970000000-MessageSegments';
import { smsSegments } from '../src/messages/sms-segments';
import { emailBody, smsBody } from './support/messages';
import { startTestApp, TestApp, waitForStatus } from './support/test-app';

const x = (n: number) => 'x'.repeat(n);
const zhe = (n: number) => 'Ж'.repeat(n);
const EMOJI = '😀';

/** `segments` and `encoding` of SMS/MMS messages, outbound and inbound; null for email. */
describe('SMS segments (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  /** segments and encoding as stored in the database. */
  async function storedSegments(id: number): Promise<{ segments: number | null; encoding: string | null }> {
    const [row] = await t.dataSource.query('SELECT segments, encoding FROM messages WHERE id = $1', [id]);
    return row;
  }

  /** Checks the 202 answer, GET /api/messages/:id and the stored row. */
  async function expectSegments(res: { body: Record<string, any> }, segments: number | null, encoding: string | null): Promise<void> {
    expect({ segments: res.body.segments, encoding: res.body.encoding }).toEqual({ segments, encoding });
    const read = await t.http.get(`/api/messages/${res.body.id}`).expect(200);
    expect({ segments: read.body.segments, encoding: read.body.encoding }).toEqual({ segments, encoding });
    expect(await storedSegments(res.body.id)).toEqual({ segments, encoding });
  }

  describe('outbound', () => {
    it.each([
      ['160 GSM-7 characters', 1, 'GSM-7', x(160)],
      ['161 GSM-7 characters', 2, 'GSM-7', x(161)],
      ['2 x 153 GSM-7 characters', 2, 'GSM-7', x(306)],
      ['2 x 153 + 1 GSM-7 characters', 3, 'GSM-7', x(307)],
      ['a euro sign straddling the first boundary (152 + 2 + 152 septets)', 3, 'GSM-7', x(152) + '€' + x(152)],
      ['70 UCS-2 characters', 1, 'UCS-2', zhe(70)],
      ['71 UCS-2 characters', 2, 'UCS-2', zhe(71)],
      ['2 x 67 UCS-2 units', 2, 'UCS-2', zhe(134)],
      ['2 x 67 + 1 UCS-2 units', 3, 'UCS-2', zhe(135)],
      ['an emoji straddling the first boundary (66 + 2 + 66 units)', 3, 'UCS-2', zhe(66) + EMOJI + zhe(66)],
      ['159 GSM-7 characters and one ç', 3, 'UCS-2', x(159) + 'ç'],
      ['1,600 GSM-7 characters', 11, 'GSM-7', x(1600)],
      ['1,600 emoji (33 per segment)', 49, 'UCS-2', EMOJI.repeat(1600)],
    ])('POST /api/messages/sms with %s: %i segment(s), %s', async (_, segments, encoding, body) => {
      const res = await t.http.post('/api/messages/sms').send(smsBody(body)).expect(202);
      await expectSegments(res, segments, encoding);
    });

    it('POST /messages/send counts sms too, and delivery leaves the count alone', async () => {
      const res = await t.http
        .post('/messages/send')
        .send({ from_: '+12015550100', to: '+12015550123', type: 'sms', body: `Total: 5€ {ok}`, attachments: [] })
        .expect(202);
      await expectSegments(res, 1, 'GSM-7');
      const sent = await waitForStatus(t, res.body.id, ['sent']);
      expect(sent).toMatchObject({ segments: 1, encoding: 'GSM-7' });
    });

    it('counts an mms body as the sms it would be; an mms without text counts 1', async () => {
      const mms = (body: string) => smsBody(body, { type: 'mms', attachments: ['https://example.com/a.png'] });
      await expectSegments(await t.http.post('/api/messages/sms').send(mms(zhe(71))).expect(202), 2, 'UCS-2');
      await expectSegments(await t.http.post('/api/messages/sms').send(mms(x(161))).expect(202), 2, 'GSM-7');
      await expectSegments(await t.http.post('/api/messages/sms').send(mms('')).expect(202), 1, 'GSM-7');
    });

    it('has null segments and encoding for email, whatever its length', async () => {
      await expectSegments(await t.http.post('/api/messages/email').send(emailBody(x(500))).expect(202), null, null);
      const send = await t.http
        .post('/messages/send')
        .send({ from: 'team@example.com', to: 'ann@example.com', type: 'email', body: `${EMOJI} hi` })
        .expect(202);
      await expectSegments(send, null, null);
    });

    it('answers 422 for a body over 1,600 characters (code points), names the count, and stores nothing', async () => {
      for (const body of [x(1601), EMOJI.repeat(1601)]) {
        const res = await t.http.post('/api/messages/sms').send(smsBody(body)).expect(422);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body.errors).toEqual([
          { field: 'body', message: 'must be at most 1,600 characters (Unicode code points) for sms and mms; it has 1,601' },
        ]);
      }
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });

    it('lists segments and encoding in GET /api/messages and a conversation’s messages', async () => {
      await t.http.post('/api/messages/sms').send(smsBody(x(161))).expect(202);
      await t.http.post('/api/messages/email').send(emailBody()).expect(202);
      const list = await t.http.get('/api/messages').expect(200);
      expect(list.body.map((m: Record<string, unknown>) => [m.type, m.segments, m.encoding])).toEqual([
        ['email', null, null],
        ['sms', 2, 'GSM-7'],
      ]);
      const sms = list.body[1];
      const inConversation = await t.http.get(`/api/conversations/${sms.conversation_id}/messages`).expect(200);
      expect(inConversation.body[0]).toMatchObject({ id: sms.id, segments: 2, encoding: 'GSM-7' });
    });
  });

  describe('inbound', () => {
    const inboundSms = (body: string, id: string, type = 'sms') => ({
      from: '+12015550123',
      to: '+12015550100',
      type,
      messaging_provider_id: id,
      body,
      attachments: type === 'mms' ? ['https://example.com/in.jpg'] : null,
      timestamp: '2024-11-01T14:00:00Z',
    });

    it('counts an inbound sms and mms from /api/webhooks/sms, also when the webhook comes again', async () => {
      const first = await t.http.post('/api/webhooks/sms').send(inboundSms(x(152) + '€' + x(152), 'SM-SEG-1')).expect(200);
      await expectSegments({ body: first.body.message }, 3, 'GSM-7');
      const again = await t.http.post('/api/webhooks/sms').send(inboundSms(x(152) + '€' + x(152), 'SM-SEG-1')).expect(200);
      expect(again.body.message).toEqual(first.body.message);

      const emoji = await t.http.post('/api/webhooks/sms').send(inboundSms(`See you ${EMOJI}`, 'SM-SEG-2')).expect(200);
      await expectSegments({ body: emoji.body.message }, 1, 'UCS-2');
      const mms = await t.http.post('/api/webhooks/sms').send(inboundSms(zhe(135), 'MM-SEG-3', 'mms')).expect(200);
      await expectSegments({ body: mms.body.message }, 3, 'UCS-2');
      expect((await t.stored()).messages).toBe(3);
    });

    it('has null segments for an inbound email', async () => {
      const res = await t.http
        .post('/api/webhooks/email')
        .send({ from: 'ann@example.com', to: 'team@example.com', xillio_id: 'XL-SEG-1', body: `<p>${x(300)}</p>`, attachments: [] })
        .expect(200);
      await expectSegments({ body: res.body.message }, null, null);
    });

    it('answers 422 for an inbound body over 1,600 characters and stores nothing', async () => {
      const res = await t.http.post('/api/webhooks/sms').send(inboundSms(x(1601), 'SM-SEG-LONG')).expect(422);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['body']);
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });
  });

  it('documents segments and encoding in the Message schema of the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const props = doc.components.schemas.MessageResponse.properties;
    expect(props.segments).toMatchObject({ type: 'number', nullable: true, minimum: 1 });
    expect(props.segments.description).toMatch(/mms/);
    expect(props.encoding).toMatchObject({ enum: ['GSM-7', 'UCS-2'], nullable: true });
  });

  describe('the migration', () => {
    it('fills in segments and encoding of the SMS and MMS messages stored before it, in batches, and leaves email null', async () => {
      const migration = new MessageSegments1795970000000();
      const runner = t.dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await migration.down(runner);
        await runner.query(`INSERT INTO conversations (channel, participants) VALUES ('sms', ARRAY['+12015550100', '+12015550123'])`);
        await runner.query(`INSERT INTO conversations (channel, participants) VALUES ('email', ARRAY['a@example.com', 'b@example.com'])`);
        // 2,500 sms/mms (more than two batches) of every kind and length, and 100 emails.
        await runner.query(
          `INSERT INTO messages (conversation_id, type, direction, status, from_address, to_address, body, timestamp, provider)
           SELECT 1, CASE WHEN i % 5 = 0 THEN 'mms' ELSE 'sms' END, 'inbound', 'received', '+12015550123', '+12015550100',
                  CASE i % 4 WHEN 0 THEN repeat('x', i % 400)
                             WHEN 1 THEN repeat('x', i % 200) || '€' || repeat('y', i % 170)
                             WHEN 2 THEN repeat('Ж', i % 150)
                             ELSE repeat('a', i % 80) || '😀' || repeat('b', i % 90) END,
                  now(), 'mock-sms'
           FROM generate_series(1, 2500) AS i`,
        );
        await runner.query(
          `INSERT INTO messages (conversation_id, type, direction, status, from_address, to_address, body, timestamp, provider)
           SELECT 2, 'email', 'inbound', 'received', 'a@example.com', 'b@example.com', repeat('x', 300), now(), 'mock-email'
           FROM generate_series(1, 100)`,
        );
        await migration.up(runner);
        const rows: { type: string; body: string; segments: number | null; encoding: string | null }[] = await runner.query(
          'SELECT type, body, segments, encoding FROM messages ORDER BY id',
        );
        await runner.commitTransaction();

        expect(rows).toHaveLength(2600);
        const wrong = rows.filter((r) => {
          if (r.type === 'email') return r.segments !== null || r.encoding !== null;
          const expected = smsSegments(r.body);
          return r.segments !== expected.segments || r.encoding !== expected.encoding;
        });
        expect(wrong).toEqual([]);
        const counts = new Set(rows.filter((r) => r.type !== 'email').map((r) => `${r.encoding}:${r.segments}`));
        expect(counts).toEqual(new Set(['GSM-7:1', 'GSM-7:2', 'GSM-7:3', 'UCS-2:1', 'UCS-2:2', 'UCS-2:3']));
      } finally {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        await runner.release();
      }
    });

    it('refuses segments on email, a count below 1, an unknown encoding, and one without the other (the check constraint)', async () => {
      await t.http.post('/api/messages/email').send(emailBody()).expect(202);
      const sms = await t.http.post('/api/messages/sms').send(smsBody('hi')).expect(202);
      await expect(t.dataSource.query(`UPDATE messages SET segments = 1, encoding = 'GSM-7' WHERE type = 'email'`)).rejects.toThrow(/CHK_messages_segments/);
      await expect(t.dataSource.query(`UPDATE messages SET segments = 0 WHERE id = $1`, [sms.body.id])).rejects.toThrow(/CHK_messages_segments/);
      await expect(t.dataSource.query(`UPDATE messages SET encoding = 'UTF-8' WHERE id = $1`, [sms.body.id])).rejects.toThrow(/CHK_messages_segments/);
      await expect(t.dataSource.query(`UPDATE messages SET encoding = NULL WHERE id = $1`, [sms.body.id])).rejects.toThrow(/CHK_messages_segments/);
      await expect(t.dataSource.query(`UPDATE messages SET segments = NULL WHERE id = $1`, [sms.body.id])).rejects.toThrow(/CHK_messages_segments/);
      await t.dataSource.query(`UPDATE messages SET segments = NULL, encoding = NULL WHERE id = $1`, [sms.body.id]); // a row written by hand
    });
  });
});
