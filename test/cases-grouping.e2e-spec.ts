import { startTestApp, TestApp } from './support/test-app';

/**
 * Cases C1, C2 and C5 of /work/shared/cases/README.md: conversation grouping by
 * normalised participants, also when first messages race.
 */
describe('Cases: conversation grouping (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  function inboundSms(from: string, to: string, id: string, extra: Record<string, unknown> = {}) {
    return t.http.post('/api/webhooks/sms').send({
      from,
      to,
      type: 'sms',
      messaging_provider_id: id,
      body: `inbound ${id}`,
      attachments: null,
      timestamp: '2024-11-01T14:00:00Z',
      ...extra,
    });
  }

  describe('C1: one person, many spellings, one conversation', () => {
    const us = '+12015550100';
    const them = '+12015550123';

    it('groups an outbound send and four inbound spellings into one conversation of 5 messages', async () => {
      const sent = await t.http
        .post('/api/messages/sms')
        .send({ from: us, to: '(201) 555-0123', type: 'sms', body: 'hello', attachments: [], timestamp: '2024-11-01T14:00:00Z' })
        .expect(202);
      expect(sent.body).toMatchObject({ from: us, to: them });

      const spellings = ['+1 201-555-0123', '12015550123', '001 201 555 0123', '+12015550123'];
      const conversationIds = [sent.body.conversation_id];
      for (const [i, from] of spellings.entries()) {
        const res = await inboundSms(from, us, `SM-C1-${i}`).expect(200);
        expect(res.body.message).toMatchObject({ from: them, to: us, direction: 'inbound' });
        conversationIds.push(res.body.message.conversation_id);
      }
      expect(new Set(conversationIds).size).toBe(1);

      const list = await t.http.get('/api/conversations').expect(200);
      expect(list.body).toHaveLength(1);
      expect(list.body[0]).toMatchObject({ channel: 'sms', participants: [us, them], message_count: 5 });
      const messages = await t.http.get(`/api/conversations/${list.body[0].id}/messages`).expect(200);
      expect(messages.body).toHaveLength(5);
      for (const m of messages.body) expect([m.from, m.to].sort()).toEqual([us, them]);

      expect(await t.count('SELECT count(*) FROM conversations')).toBe(1);
      expect(await t.count('SELECT count(*) FROM messages')).toBe(5);
      expect(await t.dataSource.query('SELECT channel, participants, message_count FROM conversations')).toEqual([
        { channel: 'sms', participants: [us, them], message_count: 5 },
      ]);
      expect(await t.count('SELECT count(*) FROM messages WHERE NOT (ARRAY[from_address, to_address] <@ $1::text[])', [[us, them]])).toBe(0);
    });

    it('keeps SMS and MMS between other spellings of the same numbers in that conversation', async () => {
      await inboundSms('+1 (201) 555-0123', us, 'SM-C1-a').expect(200);
      await inboundSms('201.555.0123', '1 201 555 0100', 'SM-C1-b').expect(200);
      await inboundSms('00 1 201 555 0123', '(201) 555-0100', 'SM-C1-c', { type: 'mms', attachments: ['https://example.com/a.png'] }).expect(200);
      await t.http
        .post('/messages/send')
        .send({ from_: '201-555-0100', to: '+1 201 555 0123', type: 'mms', body: 'pic', attachments: ['https://example.com/b.png'] })
        .expect(202);
      expect(await t.dataSource.query('SELECT channel, participants, message_count FROM conversations')).toEqual([
        { channel: 'sms', participants: [us, them], message_count: 4 },
      ]);
    });

    it.each(['12ab', '+1201555O123', '+1 201', 'call me'])('answers 422 to the number %j and stores nothing', async (bad) => {
      const send = await t.http
        .post('/api/messages/sms')
        .send({ from: us, to: bad, type: 'sms', body: 'hello', timestamp: '2024-11-01T14:00:00Z' })
        .expect(422);
      expect(send.headers['content-type']).toContain('application/problem+json');
      expect(send.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'to' })]));

      const legacy = await t.http.post('/messages/send').send({ from_: bad, to: them, type: 'sms', body: 'hello' }).expect(422);
      expect(legacy.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining([expect.stringMatching(/^from_?$/)]));

      const inbound = await inboundSms(bad, us, 'SM-C1-bad').expect(422);
      expect(inbound.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'from' })]));

      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
    });
  });

  describe('C2: email spellings, one conversation', () => {
    it('groups inbound emails from three spellings of one address into one conversation keyed lower-cased', async () => {
      const spellings = ['Alice@Example.COM', 'Alice Example <alice@example.com>', 'mailto:alice@example.com'];
      const conversationIds: number[] = [];
      for (const [i, from] of spellings.entries()) {
        const res = await t.http
          .post('/api/webhooks/email')
          .send({ from, to: 'support@example.com', xillio_id: `XL-C2-${i}`, body: '<p>help</p>', attachments: [], timestamp: '2024-11-01T14:00:00Z' })
          .expect(200);
        expect(res.body.message).toMatchObject({ type: 'email', from: 'alice@example.com', to: 'support@example.com' });
        conversationIds.push(res.body.message.conversation_id);
      }
      expect(new Set(conversationIds).size).toBe(1);

      const list = await t.http.get('/api/conversations').expect(200);
      expect(list.body).toHaveLength(1);
      expect(list.body[0]).toMatchObject({ channel: 'email', participants: ['alice@example.com', 'support@example.com'], message_count: 3 });
      expect(await t.dataSource.query('SELECT channel, participants, message_count FROM conversations')).toEqual([
        { channel: 'email', participants: ['alice@example.com', 'support@example.com'], message_count: 3 },
      ]);
      expect(await t.count(`SELECT count(*) FROM messages WHERE from_address = 'alice@example.com'`)).toBe(3);
    });

    it('puts the reply (B->A, other spellings of both) into the same conversation', async () => {
      await t.http
        .post('/api/webhooks/email')
        .send({ from: 'ALICE@example.com', to: 'Support Team <Support@Example.com>', xillio_id: 'XL-C2-x', body: 'hi' })
        .expect(200);
      const reply = await t.http
        .post('/api/messages/email')
        .send({ from: 'mailto:SUPPORT@example.com', to: 'Alice <alice@EXAMPLE.com>', body: '<p>hello</p>' })
        .expect(202);
      expect(reply.body).toMatchObject({ from: 'support@example.com', to: 'alice@example.com', conversation_id: 1 });
      expect(await t.dataSource.query('SELECT participants, message_count FROM conversations')).toEqual([
        { participants: ['alice@example.com', 'support@example.com'], message_count: 2 },
      ]);
    });
  });

  describe('conversation ids', () => {
    it('numbers conversations 1, 2, 3 in a fresh database: messages into existing ones use up no id', async () => {
      const ids: number[] = [];
      const pairs = [['+12015550101', '+12015550100'], ['+12015550100', '+12015550101'], ['+12015550102', '+12015550100'], ['+12015550101', '+12015550100']];
      for (const [i, [from, to]] of pairs.entries()) ids.push((await inboundSms(from, to, `SM-ids-${i}`).expect(200)).body.message.conversation_id);
      const email = await t.http.post('/api/messages/email').send({ from: 'a@example.com', to: 'b@example.com', body: 'hi' }).expect(202);
      ids.push(email.body.conversation_id);
      expect(ids).toEqual([1, 1, 2, 1, 3]);
    });
  });

  describe('C5: first messages racing', () => {
    it('creates exactly one conversation for 20 concurrent first inbound messages', async () => {
      expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => inboundSms('+12015550177', '+12015550100', `SM-C5-${i}`)),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      const conversationIds = new Set(responses.map((r) => r.body.message.conversation_id));
      expect(conversationIds.size).toBe(1);
      expect(new Set(responses.map((r) => r.body.message.id)).size).toBe(20);

      expect(await t.count('SELECT count(*) FROM conversations')).toBe(1);
      expect(await t.count('SELECT count(*) FROM messages')).toBe(20);
      expect(await t.dataSource.query('SELECT participants, message_count FROM conversations')).toEqual([
        { participants: ['+12015550100', '+12015550177'], message_count: 20 },
      ]);
      const list = await t.http.get('/api/conversations').expect(200);
      expect(list.body).toEqual([expect.objectContaining({ id: [...conversationIds][0], message_count: 20 })]);
    });

    it('creates exactly one conversation when A->B and B->A first messages race', async () => {
      const a = '+12015550177';
      const b = '+12015550100';
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? inboundSms(a, b, `SM-C5-ab-${i}`) : inboundSms(b, a, `SM-C5-ab-${i}`))),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(await t.dataSource.query('SELECT participants, message_count FROM conversations')).toEqual([
        { participants: [b, a], message_count: 20 },
      ]);
      expect(await t.count('SELECT count(*) FROM messages')).toBe(20);
    });
  });
});
