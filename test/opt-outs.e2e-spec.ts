import { ConversationsService } from '../src/conversations/conversations.service';
import { OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from '../src/opt-outs/opt-out-keywords';
import { OptOutsService } from '../src/opt-outs/opt-outs.service';
import { deliveryJobsOf, waitForQueueIdle } from './support/messages';
import { providerReceived, script } from './support/mock-provider';
import { startTestApp, TestApp, waitForStatus } from './support/test-app';

/** Our number (the sender of outbound messages; inbound replies are sent to it). */
const OURS = '+12015550100';
/** Another number of ours. */
const OTHER_OURS = '+12015550199';

let nextProviderId = 1;

/**
 * Opt-outs (issue 4, item 5): an inbound SMS/MMS that is an opt-out keyword stops
 * sends from the number it was sent to to the number it came from (422
 * recipient_opted_out, nothing stored or queued) until an opt-in keyword; listed at
 * GET /api/opt-outs.
 */
describe('Opt-outs (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  /** Posts an inbound SMS (or MMS) from `from` to `to` with `body`; expects 200 and returns the stored message. */
  async function reply(from: string, body: string, to = OURS, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const res = await t.http
      .post('/api/webhooks/sms')
      .send({ from, to, type: 'sms', messaging_provider_id: `SM-OPT-${nextProviderId++}`, body, attachments: null, ...overrides })
      .expect(200);
    expect(res.body.received).toBe(true);
    return res.body.message;
  }

  const send = (to: string, from = OURS, extra: Record<string, unknown> = {}) =>
    t.http.post('/api/messages/sms').send({ from, to, type: 'sms', body: 'Your order shipped', ...extra });

  /** Sends to `to` and expects the opt-out refusal, with nothing stored or queued. */
  async function expectRefused(request: Promise<{ status: number; headers: Record<string, string>; body: any }>): Promise<void> {
    const before = await t.stored();
    const res = await request;
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 422, code: 'recipient_opted_out', type: '/problems/recipient-opted-out', title: 'Recipient opted out' });
    expect(res.body.detail).toMatch(/opted out of messages from \+1\d{10}/);
    expect(await t.stored()).toEqual(before);
  }

  const optOutRows = () => t.dataSource.query('SELECT channel, sender, recipient, keyword FROM opt_outs ORDER BY id');

  describe('opting out', () => {
    const variants = (keyword: string) => [keyword, keyword.toLowerCase(), keyword[0] + keyword.slice(1).toLowerCase(), `  ${keyword.toLowerCase()}\n`, `\t${keyword} \r\n`];

    it.each([...OPT_OUT_KEYWORDS])('%s in any case and with whitespace around it opts the sender out of our number', async (keyword) => {
      for (const [i, body] of variants(keyword).entries()) {
        const recipient = `+1201555${String(1000 + i).padStart(4, '0')}`;
        const stored = await reply(recipient, body);
        expect(stored).toMatchObject({ direction: 'inbound', status: 'received', body, from: recipient, to: OURS }); // stored as usual
        await expectRefused(send(recipient));
      }
      expect(await optOutRows()).toEqual(variants(keyword).map((_, i) => ({ channel: 'sms', sender: OURS, recipient: `+1201555${1000 + i}`, keyword })));
      expect(await t.count(`SELECT count(*) FROM messages WHERE direction = 'inbound'`)).toBe(5);
      expect(await t.count(`SELECT count(*) FROM messages WHERE direction = 'outbound'`)).toBe(0);
    });

    it('refuses every client send endpoint, SMS and MMS, for normalised numbers however written', async () => {
      await reply('+1 (804) 555-1234', 'STOP', '(201) 555-0100');
      expect(await optOutRows()).toEqual([{ channel: 'sms', sender: OURS, recipient: '+18045551234', keyword: 'STOP' }]);
      await expectRefused(send('+18045551234'));
      await expectRefused(send('18045551234', '2015550100'));
      await expectRefused(send('0018045551234', '+1 201 555 0100', { type: 'mms', attachments: ['https://example.com/a.jpg'] }));
      await expectRefused(t.http.post('/messages/send').send({ from_: OURS, to: '+18045551234', type: 'sms', body: 'x', attachments: [] }));
      await expectRefused(t.http.post('/messages/send').send({ from: OURS, to: '+18045551234', type: 'mms', body: 'x', attachments: ['https://example.com/a.jpg'] }));
      expect(await providerReceived(t.mock)).toEqual([]);
    });

    it('is per pair: other numbers of ours still reach the recipient, and they still reach us', async () => {
      await reply('+18045551234', 'STOP');
      await send('+18045551234', OTHER_OURS).expect(202);
      await send('+18045559999').expect(202);
      const inbound = await reply('+18045551234', 'Actually, one question');
      expect(inbound.status).toBe('received');
      await expectRefused(send('+18045551234'));
    });

    it('counts an MMS whose body is STOP', async () => {
      await reply('+18045551234', 'Stop', OURS, { type: 'mms', attachments: ['https://example.com/stop.png'] });
      await expectRefused(send('+18045551234'));
    });

    it('does not opt out on a body that only contains a keyword', async () => {
      for (const body of ['stop please', 'Please STOP', 'STOP.', 'stop!', 'S T O P', 'cancel my order', 'yes please', 'OPT OUT']) {
        await reply('+18045551234', body);
      }
      expect(await optOutRows()).toEqual([]);
      await send('+18045551234').expect(202);
    });

    it('does not opt out on an email reading STOP', async () => {
      await t.http
        .post('/api/webhooks/email')
        .send({ from: 'ann@example.com', to: 'team@example.com', xillio_id: 'XL-STOP-1', body: 'STOP', attachments: [] })
        .expect(200);
      expect(await optOutRows()).toEqual([]);
      await t.http.post('/api/messages/email').send({ from: 'team@example.com', to: 'ann@example.com', body: 'hi' }).expect(202);
    });

    it('keeps the first opt-out when an opt-out keyword comes again', async () => {
      const first = await reply('+18045551234', 'STOP');
      await reply('+18045551234', 'QUIT');
      expect(await optOutRows()).toEqual([{ channel: 'sms', sender: OURS, recipient: '+18045551234', keyword: 'STOP' }]);
      const listed = (await t.http.get('/api/opt-outs').expect(200)).body;
      expect(listed).toHaveLength(1);
      expect(listed[0].message_id).toBe(first.id);
    });
  });

  describe('opting back in', () => {
    it.each([...OPT_IN_KEYWORDS])('%s lifts the opt-out for that pair only', async (keyword) => {
      await reply('+18045551234', 'STOP');
      await reply('+18045551234', 'STOP', OTHER_OURS);
      await reply('+18045551234', ` ${keyword.toLowerCase()} `);
      const sent = await send('+18045551234').expect(202);
      await expectRefused(send('+18045551234', OTHER_OURS));
      expect(await optOutRows()).toEqual([{ channel: 'sms', sender: OTHER_OURS, recipient: '+18045551234', keyword: 'STOP' }]);
      await waitForStatus(t, sent.body.id, ['sent']);
      expect((await providerReceived(t.mock)).map((m) => m.to)).toEqual(['+18045551234']);
    });

    it('a STOP redelivered after START (same provider id) does not opt out again', async () => {
      const stop = { from: '+18045551234', to: OURS, type: 'sms', messaging_provider_id: 'SM-STOP-REDELIVERED', body: 'STOP' };
      await t.http.post('/api/webhooks/sms').send(stop).expect(200);
      await reply('+18045551234', 'START');
      await t.http.post('/api/webhooks/sms').send(stop).expect(200);
      expect(await optOutRows()).toEqual([]);
      await send('+18045551234').expect(202);
    });

    it('START without an opt-out changes nothing', async () => {
      await reply('+18045551234', 'START');
      expect(await optOutRows()).toEqual([]);
      await send('+18045551234').expect(202);
    });
  });

  describe('retrying a failed message', () => {
    it('is refused once the recipient opted out, and the message stays failed without a new job', async () => {
      await script(t, [{ action: 'status', status: 400, body: { error: { code: 'x', message: 'refused' } } }]);
      const id = (await send('+18045551234').expect(202)).body.id as number;
      await waitForStatus(t, id, ['failed']);
      await waitForQueueIdle(t);
      await reply('+18045551234', 'UNSUBSCRIBE');
      const jobs = await deliveryJobsOf(t, id);
      await expectRefused(t.http.post(`/api/messages/${id}/retry`));
      expect((await t.http.get(`/api/messages/${id}`)).body).toMatchObject({ status: 'failed', error: { code: 'provider_rejected' } });
      expect(await deliveryJobsOf(t, id)).toBe(jobs);
      await reply('+18045551234', 'UNSTOP');
      await t.http.post(`/api/messages/${id}/retry`).expect(202);
    });
  });

  describe('a send racing a STOP', () => {
    it('waits for a STOP being stored and then sees it (the check runs inside the send transaction)', async () => {
      const earlier = await reply('+18045551234', 'Hi there'); // the conversation exists, as it does for any reply
      const conversations = t.app.get(ConversationsService);
      const optOuts = t.app.get(OptOutsService);
      let answered: { status: number; body: any } | undefined;
      let sending: Promise<unknown> | undefined;
      await t.dataSource.transaction(async (manager) => {
        // What MessagesService.receive does for a STOP, held open before its commit:
        await conversations.recordMessage(manager, 'sms', '+18045551234', OURS);
        await optOuts.applyReply(manager, { id: String(earlier.id), channel: 'sms', from: '+18045551234', to: OURS, body: 'STOP' });
        sending = send('+18045551234').then((res) => (answered = res));
        await new Promise((resolve) => setTimeout(resolve, 750));
        expect(answered).toBeUndefined(); // the send waits for the reply's transaction
      });
      await sending;
      expect(answered).toMatchObject({ status: 422, body: { code: 'recipient_opted_out' } });
      expect(await t.count(`SELECT count(*) FROM messages WHERE direction = 'outbound'`)).toBe(0);
    });

    it('a send already under way commits first, and the STOP after it is applied', async () => {
      await reply('+18045551234', 'Hi there');
      const optOuts = t.app.get(OptOutsService);
      const conversations = t.app.get(ConversationsService);
      let stopped: Promise<unknown> | undefined;
      let replied = false;
      await t.dataSource.transaction(async (manager) => {
        // A send holding the conversation (as MessagesService.send does before its insert):
        await conversations.recordMessage(manager, 'sms', OURS, '+18045551234');
        await optOuts.assertMaySend(manager, 'sms', OURS, '+18045551234');
        stopped = reply('+18045551234', 'STOP').then(() => (replied = true));
        await new Promise((resolve) => setTimeout(resolve, 750));
        expect(replied).toBe(false); // the STOP waits for the send's transaction
      });
      await stopped;
      expect(await optOutRows()).toHaveLength(1);
    });
  });

  describe('the errors of sends an insert left out (OptOutsService.refusalsOf)', () => {
    it('names the keyword and time of a stored opt-out, and still refuses one lifted since the insert', async () => {
      await reply('+18045551234', 'STOP');
      const optOuts = t.app.get(OptOutsService);
      const errors = await optOuts.refusalsOf(t.dataSource.manager, [
        { channel: 'sms', sender: OURS, recipient: '+18045551234' },
        { channel: 'sms', sender: OURS, recipient: '+18045559999' }, // opted back in meanwhile: no row left
      ]);
      expect(errors.map((e) => [e.status, e.code])).toEqual([[422, 'recipient_opted_out'], [422, 'recipient_opted_out']]);
      expect(errors[0].message).toMatch(/replied STOP at \d{4}-/);
      expect(errors[1].message).toMatch(/^\+18045559999 opted out of messages from \+\d+; nothing was sent/);
    });
  });

  describe('GET /api/opt-outs', () => {
    it('lists opt-outs newest first with their fields', async () => {
      const stops: Record<string, any>[] = [];
      for (const [i, keyword] of ['STOP', 'end', 'Revoke'].entries()) stops.push(await reply(`+1804555100${i}`, keyword));
      const res = await t.http.get('/api/opt-outs').expect(200);
      expect(res.headers['x-total-count']).toBe('3');
      expect(res.body).toEqual(
        [2, 1, 0].map((i) => ({
          id: i + 1,
          channel: 'sms',
          sender: OURS,
          recipient: `+1804555100${i}`,
          keyword: ['STOP', 'END', 'REVOKE'][i],
          message_id: stops[i].id,
          created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        })),
      );
    });

    it('pages with page/per_page, X-Total-Count and Link, and refuses bad paging with 422', async () => {
      for (let i = 0; i < 5; i++) await reply(`+1804555200${i}`, 'STOP');
      const page2 = await t.http.get('/api/opt-outs?per_page=2&page=2').expect(200);
      expect(page2.body.map((o: { recipient: string }) => o.recipient)).toEqual(['+18045552002', '+18045552001']);
      expect(page2.headers['x-total-count']).toBe('5');
      expect(page2.headers.link).toBe(
        '</api/opt-outs?per_page=2&page=1>; rel="first", </api/opt-outs?per_page=2&page=1>; rel="prev", ' +
          '</api/opt-outs?per_page=2&page=3>; rel="next", </api/opt-outs?per_page=2&page=3>; rel="last"',
      );
      expect((await t.http.get('/api/opt-outs?per_page=101').expect(422)).body.code).toBe('validation_failed');
      expect((await t.http.get('/api/opt-outs?page=0').expect(422)).body.code).toBe('validation_failed');
    });

    it('drops an entry when the recipient opts back in', async () => {
      await reply('+18045551234', 'STOP');
      await reply('+18045555678', 'STOP');
      await reply('+18045551234', 'YES');
      const res = await t.http.get('/api/opt-outs').expect(200);
      expect(res.body.map((o: { recipient: string }) => o.recipient)).toEqual(['+18045555678']);
      expect(res.headers['x-total-count']).toBe('1');
    });

    it('is documented in Swagger', async () => {
      const doc = (await t.http.get('/docs-json').expect(200)).body;
      expect(doc.paths['/api/opt-outs'].get.responses['200']).toBeDefined();
      for (const path of ['/messages/send', '/api/messages/sms', '/api/messages/{id}/retry']) {
        expect(doc.paths[path].post.description).toMatch(/recipient_opted_out/);
      }
      expect(doc.components.schemas.OptOutResponse.properties).toEqual(
        expect.objectContaining({ sender: expect.anything(), recipient: expect.anything(), keyword: expect.anything(), created_at: expect.anything() }),
      );
    });
  });
});
