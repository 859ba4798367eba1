import { providerReceived } from './support/mock-provider';
import { startTestApp, TestApp, waitForStatus } from './support/test-app';

describe('Send, store, group and deliver (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it("accepts the original README's example and delivers it", async () => {
    const res = await t.http
      .post('/messages/send')
      .send({ from_: '+11234567890', to: '+10987654321', type: 'sms', body: 'Test message', attachments: [], timestamp: '2025-05-21T18:00:00Z' })
      .expect(202);
    expect(res.body).toMatchObject({ id: 1, conversation_id: 1, status: 'queued', from: '+11234567890', to: '+10987654321', attempts: 0 });
    const sent = await waitForStatus(t, res.body.id, ['sent'], 5_000);
    expect(sent.provider).toBe('mock-sms');
    expect(sent.provider_message_id).toMatch(/^mock-/);
    expect(sent.attempts).toBe(1);
    const received = await providerReceived(t.mock);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ to: '+10987654321', body: 'Test message', accepted_count: 1 });
  });

  it("answers a typical client's eight calls and groups them into two conversations", async () => {
    const a = '+12015550100';
    const b = '+12015550123';
    const statuses: number[] = [];
    const call = async (r: { status: number }) => statuses.push(r.status);
    await call(await t.http.post('/api/messages/sms').send({ from: a, to: b, type: 'sms', body: 'hi', attachments: null, timestamp: '2024-11-01T14:00:00Z' }));
    await call(await t.http.post('/api/messages/sms').send({ from: a, to: b, type: 'mms', body: 'pic', attachments: ['https://example.com/a.png'], timestamp: '2024-11-01T14:01:00Z' }));
    await call(await t.http.post('/api/messages/email').send({ from: 'team@example.com', to: 'ann@example.com', body: '<p>hello</p>', attachments: [], timestamp: '2024-11-01T14:02:00Z' }));
    await call(await t.http.post('/api/webhooks/sms').send({ from: b, to: a, type: 'sms', messaging_provider_id: 'in-1', body: 'yo', attachments: null, timestamp: '2024-11-01T14:03:00Z' }));
    await call(await t.http.post('/api/webhooks/sms').send({ from: b, to: a, type: 'mms', messaging_provider_id: 'in-2', body: '', attachments: ['https://example.com/b.png'], timestamp: '2024-11-01T14:04:00Z' }));
    await call(await t.http.post('/api/webhooks/email').send({ from: 'ann@example.com', to: 'team@example.com', xillio_id: 'x-1', body: '<p>re</p>', attachments: [], timestamp: '2024-11-01T14:05:00Z' }));
    const conversations = await t.http.get('/api/conversations');
    await call(conversations);
    const messages = await t.http.get('/api/conversations/1/messages');
    await call(messages);
    expect(statuses).toEqual([202, 202, 202, 200, 200, 200, 200, 200]);
    expect(conversations.body).toHaveLength(2);
    expect(conversations.headers['x-total-count']).toBe('2');
    const phone = conversations.body.find((c: { channel: string }) => c.channel === 'sms');
    expect(phone).toMatchObject({ id: 1, participants: [a, b], message_count: 4 });
    expect(messages.body.map((m: { type: string }) => m.type)).toEqual(['sms', 'mms', 'sms', 'mms']);
    expect(messages.body.map((m: { direction: string }) => m.direction)).toEqual(['outbound', 'outbound', 'inbound', 'inbound']);
  });

  it('answers 404 problem+json for an unknown message', async () => {
    const res = await t.http.get('/api/messages/12345').expect(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 404, title: 'Not found' });
  });
});
