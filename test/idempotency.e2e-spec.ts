import type { QueryRunner } from 'typeorm';
import { providerRequests } from './support/mock-provider';
import { emailBody, smsBody, waitForQueueIdle } from './support/messages';
import { startTestApp, TestApp, waitFor, waitForStatus } from './support/test-app';

/** The three client send endpoints, each with a valid body. */
const ENDPOINTS: Array<[string, Record<string, unknown>]> = [
  ['/messages/send', { from_: '+11234567890', to: '+10987654321', type: 'sms', body: 'Test message', attachments: [], timestamp: '2025-05-21T18:00:00Z' }],
  ['/api/messages/sms', smsBody('hello')],
  ['/api/messages/email', emailBody('<p>hello</p>')],
];

describe('Idempotency-Key on client sends (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  /** POSTs `body` to `path` with `key` as Idempotency-Key (and `bearer` as the API key). */
  const send = (path: string, body: Record<string, unknown> | string, key?: string | string[], bearer?: string) => {
    let req = t.http.post(path).set('Content-Type', 'application/json');
    if (key !== undefined) req = req.set('Idempotency-Key', key as string);
    if (bearer !== undefined) req = req.set('Authorization', `Bearer ${bearer}`);
    return req.send(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const keyRows = () => t.count('SELECT count(*) FROM idempotency_keys');

  describe('replay', () => {
    it.each(ENDPOINTS)('%s: the same key and body replays the first answer byte for byte and sends nothing new', async (path, body) => {
      const first = await send(path, body, 'replay-key-1').expect(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      // Same JSON, other key order and white space: the same request.
      const reordered = JSON.stringify(Object.fromEntries(Object.entries(body).reverse()), null, 2);
      const again = await send(path, reordered, 'replay-key-1').expect(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['content-type']).toBe(first.headers['content-type']);
      expect(again.text).toBe(first.text);
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });

      // Delivered once; a replay after delivery still answers what the first request got.
      await waitForStatus(t, first.body.id, ['sent']);
      await waitForQueueIdle(t);
      const late = await send(path, body, 'replay-key-1').expect(202);
      expect(late.text).toBe(first.text);
      expect(late.body.status).toBe('queued');
      expect(late.headers['idempotent-replayed']).toBe('true');
      expect((await providerRequests(t)).length).toBe(1);
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
      expect(await keyRows()).toBe(1);
    });

    it('reads a structured-field string key (the draft) and the same key sent bare as one key', async () => {
      const first = await send('/api/messages/sms', smsBody(), '"8e03978e-40d5-43e8-bc93-6894a57f9324"').expect(202);
      const bare = await send('/api/messages/sms', smsBody(), '8e03978e-40d5-43e8-bc93-6894a57f9324').expect(202);
      expect(bare.headers['idempotent-replayed']).toBe('true');
      expect(bare.text).toBe(first.text);
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
    });

    it('replays the stored 202 to a retry of a Prefer: wait request, without waiting', async () => {
      const first = await send('/api/messages/sms', smsBody(), 'waited').set('Prefer', 'wait=10').expect(200);
      expect(first.body.status).toBe('sent');
      const again = await send('/api/messages/sms', smsBody(), 'waited').set('Prefer', 'wait=10').expect(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['preference-applied']).toBeUndefined();
      expect(again.body).toMatchObject({ id: first.body.id, status: 'queued', provider_message_id: null });
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
    });

    it('sends without a key as before: two requests, two messages, no key stored', async () => {
      await send('/api/messages/sms', smsBody()).expect(202);
      await send('/api/messages/sms', smsBody()).expect(202);
      expect(await t.stored()).toMatchObject({ messages: 2, jobs: 2 });
      expect(await keyRows()).toBe(0);
    });
  });

  describe('conflict', () => {
    it('answers 422 idempotency_key_reused to the same key with another body, and stores nothing', async () => {
      const first = await send('/api/messages/sms', smsBody('one'), 'conflict-key').expect(202);
      const other = await send('/api/messages/sms', smsBody('two'), 'conflict-key').expect(422);
      expect(other.headers['content-type']).toContain('application/problem+json');
      expect(other.headers['idempotent-replayed']).toBeUndefined();
      expect(other.body).toMatchObject({ status: 422, code: 'idempotency_key_reused', type: '/problems/idempotency-key-reused' });
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
      // The key still belongs to the first request.
      expect((await send('/api/messages/sms', smsBody('one'), 'conflict-key').expect(202)).text).toBe(first.text);
    });

    it('answers 422 to the same key and body on another endpoint', async () => {
      await send('/api/messages/sms', smsBody(), 'endpoint-key').expect(202);
      const res = await send('/messages/send', smsBody(), 'endpoint-key').expect(422);
      expect(res.body.code).toBe('idempotency_key_reused');
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
    });

    it('keeps no answer of a request that failed validation: the corrected request may reuse its key', async () => {
      const bad = await send('/api/messages/sms', smsBody('x', { to: 'not a number' }), 'fix-me').expect(422);
      expect(bad.body.code).toBe('validation_failed');
      expect(await t.stored()).toMatchObject({ messages: 0, jobs: 0 });
      expect(await keyRows()).toBe(0);
      const fixed = await send('/api/messages/sms', smsBody('x'), 'fix-me').expect(202);
      expect(fixed.headers['idempotent-replayed']).toBeUndefined();
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
    });
  });

  describe('in flight', () => {
    let blocker: QueryRunner | undefined;

    afterEach(async () => {
      if (blocker?.isTransactionActive) await blocker.rollbackTransaction();
      await blocker?.release();
      blocker = undefined;
    });

    /**
     * Holds a SHARE lock on `messages`, so a send stops at its message INSERT while it
     * holds its key's advisory lock, until releaseInserts().
     */
    async function holdInserts(): Promise<void> {
      blocker = t.dataSource.createQueryRunner();
      await blocker.connect();
      await blocker.startTransaction();
      await blocker.query('LOCK TABLE messages IN SHARE MODE');
    }
    const releaseInserts = async () => blocker!.rollbackTransaction();
    /** Waits until a send waits for the messages lock; returns its backend's pid. */
    const blockedSend = () =>
      waitFor(async () => {
        const rows: { pid: number }[] = await t.dataSource.query(`SELECT pid FROM pg_locks WHERE relation = 'messages'::regclass AND NOT granted`);
        return rows[0]?.pid;
      }, 'a send to wait for the messages table');

    it('answers 409 with Retry-After while the first request with the key is being processed, then replays it', async () => {
      await holdInserts();
      const first = send('/api/messages/sms', smsBody(), 'slow-key').then((r) => r);
      await blockedSend();

      const during = await send('/api/messages/sms', smsBody(), 'slow-key').expect(409);
      expect(during.headers['content-type']).toContain('application/problem+json');
      expect(during.headers['retry-after']).toBe('1');
      expect(during.body).toMatchObject({ status: 409, code: 'idempotency_key_in_flight' });
      expect(await t.stored()).toMatchObject({ messages: 0, jobs: 0 });

      await releaseInserts();
      const done = await first;
      expect(done.status).toBe(202);
      const after = await send('/api/messages/sms', smsBody(), 'slow-key').expect(202);
      expect(after.headers['idempotent-replayed']).toBe('true');
      expect(after.text).toBe(done.text);
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
    });

    it('leaves the key free when the first request dies mid-transaction: the next one is new, not 409', async () => {
      await holdInserts();
      const first = send('/api/messages/sms', smsBody(), 'crash-key').then((r) => r);
      const pid = await blockedSend();
      await t.dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
      expect((await first).status).toBeGreaterThanOrEqual(500);
      await releaseInserts();
      expect(await t.stored()).toMatchObject({ messages: 0, jobs: 0 });

      const retry = await send('/api/messages/sms', smsBody(), 'crash-key').expect(202);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
      expect(await keyRows()).toBe(1);
    });
  });

  it('scopes keys per caller: while the API runs open (no API_KEYS) every request is the anonymous caller', async () => {
    const first = await send('/api/messages/sms', smsBody(), 'open-key', 'token-a').expect(202);
    const again = await send('/api/messages/sms', smsBody(), 'open-key', 'token-b').expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
  });

  it('stores one message for 20 parallel requests with one key; the others replay it or get 409', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => send('/api/messages/sms', smsBody('race'), 'race-key')));
    const created = answers.filter((r) => r.status === 202 && r.headers['idempotent-replayed'] === undefined);
    const replayed = answers.filter((r) => r.status === 202 && r.headers['idempotent-replayed'] === 'true');
    const inFlight = answers.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(created.length + replayed.length + inFlight.length).toBe(20);
    for (const r of replayed) expect(r.text).toBe(created[0].text);
    for (const r of inFlight) expect(r.headers['retry-after']).toBe('1');
    expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });

    await waitForStatus(t, created[0].body.id, ['sent']);
    await waitForQueueIdle(t);
    expect((await providerRequests(t)).length).toBe(1);
  });

  describe('expiry', () => {
    const age = (hours: number, key?: string) =>
      t.dataSource.query(
        `UPDATE idempotency_keys SET created_at = created_at - make_interval(hours => $1), expires_at = expires_at - make_interval(hours => $1)
          WHERE $2::text IS NULL OR key = $2`,
        [hours, key ?? null],
      );

    it('keeps a key 24 h: 23 h after, it still replays', async () => {
      const first = await send('/api/messages/sms', smsBody(), 'day-key').expect(202);
      await age(23);
      const again = await send('/api/messages/sms', smsBody(), 'day-key').expect(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.text).toBe(first.text);
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
    });

    it('treats a key older than 24 h as new, also with another body', async () => {
      const first = await send('/api/messages/sms', smsBody('first'), 'old-key').expect(202);
      await age(25);
      const second = await send('/api/messages/sms', smsBody('first'), 'old-key').expect(202);
      expect(second.headers['idempotent-replayed']).toBeUndefined();
      expect(second.body.id).not.toBe(first.body.id);
      await age(25);
      await send('/api/messages/sms', smsBody('another body'), 'old-key').expect(202);
      expect(await t.stored()).toMatchObject({ messages: 3, jobs: 3 });
      const rows: { message_id: string }[] = await t.dataSource.query(`SELECT message_id FROM idempotency_keys WHERE key = 'old-key'`);
      expect(rows).toHaveLength(1);
      expect(Number(rows[0].message_id)).toBe(3);
    });

    it('purges expired keys of other requests as new keys are stored', async () => {
      for (let i = 1; i <= 3; i++) await send('/api/messages/sms', smsBody(`m${i}`), `expired-${i}`).expect(202);
      await send('/api/messages/sms', smsBody('live'), 'live-key').expect(202);
      await age(25, 'expired-1');
      await age(25, 'expired-2');
      await age(25, 'expired-3');
      expect(await keyRows()).toBe(4);
      await send('/api/messages/sms', smsBody('new'), 'new-key').expect(202);
      const left: { key: string }[] = await t.dataSource.query('SELECT key FROM idempotency_keys ORDER BY key');
      expect(left.map((r) => r.key)).toEqual(['live-key', 'new-key']);
      // The messages stay: only the keys expire.
      expect(await t.stored()).toMatchObject({ messages: 5, jobs: 5 });
    });
  });

  describe('invalid keys', () => {
    it.each([
      ['empty', ''],
      ['256 characters', 'k'.repeat(256)],
      ['non-ASCII', 'clé'],
      ['an unterminated quoted string', '"abc'],
      ['an empty quoted string', '""'],
      ['sent twice', ['k1', 'k2']],
    ])('answers 400 invalid_idempotency_key to a key that is %s, and stores nothing', async (_, key) => {
      const res = await send('/api/messages/sms', smsBody(), key as string | string[]).expect(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 400, code: 'invalid_idempotency_key', title: 'Invalid Idempotency-Key' });
      expect(await t.stored()).toMatchObject({ messages: 0, conversations: 0, jobs: 0 });
      expect(await keyRows()).toBe(0);
    });

    it('refuses a body with a number beyond the double range (1e400) with 422, not 500, and keeps the key free', async () => {
      // Found by test/properties/sends.e2e-spec.ts: the fingerprint of such a body threw.
      const text = JSON.stringify(smsBody()).replace('{', '{"n":1e400,');
      const res = await send('/api/messages/sms', text, 'huge-number').expect(422);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 422, code: 'validation_failed' });
      expect(res.body.errors).toContainEqual({ field: 'n', message: 'is not a known field' });
      expect(await t.stored()).toMatchObject({ messages: 0, conversations: 0, jobs: 0 });
      expect(await keyRows()).toBe(0);
      await send('/api/messages/sms', smsBody(), 'huge-number').expect(202);
    });

    it('checks the key before the body: a bad key with a bad body is 400', async () => {
      const res = await send('/api/messages/email', { to: 'nobody' }, 'k'.repeat(300)).expect(400);
      expect(res.body.code).toBe('invalid_idempotency_key');
    });

    it('accepts 255 printable ASCII characters', async () => {
      const key = Array.from({ length: 255 }, (_, i) => String.fromCharCode(0x21 + (i % 94))).join('');
      await send('/api/messages/sms', smsBody(), key).expect(202);
      expect((await send('/api/messages/sms', smsBody(), key).expect(202)).headers['idempotent-replayed']).toBe('true');
      expect(await t.stored()).toMatchObject({ messages: 1, jobs: 1 });
    });
  });

  it('documents Idempotency-Key, Idempotent-Replayed and the 400/409/422 answers in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    for (const [path] of ENDPOINTS) {
      const op = doc.paths[path].post;
      const header = op.parameters.find((p: { name: string; in: string }) => p.name === 'Idempotency-Key' && p.in === 'header');
      expect(header).toMatchObject({ required: false, schema: { type: 'string', maxLength: 255 } });
      expect(op.responses['202'].headers['Idempotent-Replayed']).toBeDefined();
      expect(op.responses['202'].headers['Preference-Applied']).toBeDefined();
      expect(op.responses['409'].headers['Retry-After']).toBeDefined();
      expect(op.responses['409'].content['application/problem+json']).toBeDefined();
      expect(op.responses['422'].description).toContain('idempotency_key_reused');
      expect(op.responses['400'].description).toContain('invalid_idempotency_key');
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '409', '413', '415', '422', '503']));
    }
    const retry = doc.paths['/api/messages/{id}/retry'].post;
    expect(retry.parameters.find((p: { name: string }) => p.name === 'Idempotency-Key')).toBeUndefined();
  });
});

describe('Idempotency-Key scoped per API key, with API_KEYS=token-a,token-b,token-c (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ API_KEYS: 'token-a,token-b,token-c' });
  });
  afterAll(async () => t.close());

  const send = (body: Record<string, unknown>, bearer: string) =>
    t.http.post('/api/messages/sms').set('Idempotency-Key', 'shared-key').set('Authorization', `Bearer ${bearer}`).send(body);

  it('one key under two API keys is two requests; each replays only its own', async () => {
    const a = await send(smsBody(), 'token-a').expect(202);
    const b = await send(smsBody(), 'token-b').expect(202);
    for (const res of [a, b]) expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(a.body.id).not.toBe(b.body.id);
    expect(await t.stored()).toMatchObject({ messages: 2, jobs: 2 });

    const againA = await send(smsBody(), 'token-a').expect(202);
    expect(againA.headers['idempotent-replayed']).toBe('true');
    expect(againA.body.id).toBe(a.body.id);
    // Another caller's body under the same key is not a conflict: it is not the same key.
    await send(smsBody('other'), 'token-c').expect(202);
    expect(await t.stored()).toMatchObject({ messages: 3, jobs: 3 });
  });

  it('answers a request without a valid API key 401 before looking at its Idempotency-Key', async () => {
    const res = await t.http.post('/api/messages/sms').set('Idempotency-Key', 'k'.repeat(300)).set('Authorization', 'Bearer wrong').send(smsBody()).expect(401);
    expect(res.body.status).toBe(401);
    const keyed = await t.http.post('/api/messages/sms').set('Idempotency-Key', 'k'.repeat(300)).set('Authorization', 'Bearer token-a').send(smsBody()).expect(400);
    expect(keyed.body.code).toBe('invalid_idempotency_key');
  });
});
