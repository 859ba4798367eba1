import type { Response } from 'supertest';
import { smsBody } from './support/messages';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Client rate limit (issue 4): RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW_S per API key
 * (per client IP while the API runs open), shared by all endpoints of the client API
 * and by all API processes (the counters are in PostgreSQL); answers carry the
 * RateLimit-* fields of draft-ietf-httpapi-ratelimit-headers-06; over the limit 429
 * problem+json with Retry-After. Health and webhooks are neither counted nor limited.
 */

const LIMIT = 3;
const WINDOW_S = 60;
// One key per test, so that each starts with a full budget whatever ran before.
const KEYS = Array.from({ length: 12 }, (_, i) => `rl-key-${i}`);
const INBOUND_SMS = { from: '+12015550123', to: '+12015550100', type: 'sms', body: 'hi', attachments: null };

const bearer = (key: string) => `Bearer ${key}`;

/** Asserts the RateLimit fields of an accepted request. */
function expectRateLimitFields(res: Response, remaining: number, windowS = WINDOW_S): void {
  expect(res.headers['ratelimit-limit']).toBe(String(LIMIT));
  expect(res.headers['ratelimit-remaining']).toBe(String(remaining));
  expect(res.headers['ratelimit-policy']).toBe(`${LIMIT};w=${windowS}`);
  const reset = Number(res.headers['ratelimit-reset']);
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(windowS);
}

/** Asserts a 429 problem with Retry-After (seconds) and returns Retry-After. */
function expectRateLimited(res: Response, windowS = WINDOW_S): number {
  expect(res.status).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(res.text)).toMatchObject({ status: 429, code: 'rate_limited', title: 'Too many requests', type: '/problems/rate-limited' });
  expect(res.text).not.toMatch(/throttl/i); // no library name
  const retryAfter = res.headers['retry-after'] as string;
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(windowS);
  expect(res.headers['ratelimit-remaining']).toBe('0');
  expect(res.headers['ratelimit-limit']).toBe(String(LIMIT));
  expect(res.headers['ratelimit-reset']).toBe(retryAfter);
  return Number(retryAfter);
}

describe('Rate limit per API key (e2e)', () => {
  let t: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    const env = { API_KEYS: KEYS.join(','), RATE_LIMIT_REQUESTS: String(LIMIT), RATE_LIMIT_WINDOW_S: String(WINDOW_S) };
    t = await startTestApp(env);
    second = await startTestApp(env); // another API process on the same database
  });
  beforeEach(async () => t.reset());
  afterAll(async () => {
    await t.close();
    await second.close();
  });

  it('counts down RateLimit-Remaining, then answers 429 with Retry-After, storing nothing', async () => {
    const key = bearer(KEYS[0]);
    for (let remaining = LIMIT - 1; remaining >= 0; remaining--) {
      const res = await t.http.post('/api/messages/sms').set('Authorization', key).send(smsBody(`n${remaining}`)).expect(202);
      expectRateLimitFields(res, remaining);
    }
    expect(await t.stored()).toMatchObject({ messages: LIMIT });
    expectRateLimited(await t.http.post('/api/messages/sms').set('Authorization', key).send(smsBody('over')));
    expectRateLimited(await t.http.get('/api/messages').set('Authorization', key));
    expect(await t.stored()).toMatchObject({ messages: LIMIT });
  });

  it('shares one budget across every client endpoint of a key', async () => {
    const key = bearer(KEYS[1]);
    expectRateLimitFields(await t.http.get('/api/conversations').set('Authorization', key).expect(200), 2);
    expectRateLimitFields(await t.http.post('/messages/send').set('Authorization', key).send({ ...smsBody(), from: undefined, from_: '+12015550100' }).expect(202), 1);
    expectRateLimitFields(await t.http.get('/api/messages/1').set('Authorization', key).expect(200), 0);
    expectRateLimited(await t.http.get('/api/conversations/1/messages').set('Authorization', key));
    expectRateLimited(await t.http.post('/api/messages/1/retry').set('Authorization', key));
  });

  it('gives every key its own budget', async () => {
    for (let i = 0; i < LIMIT; i++) await t.http.get('/api/messages').set('Authorization', bearer(KEYS[2])).expect(200);
    expectRateLimited(await t.http.get('/api/messages').set('Authorization', bearer(KEYS[2])));
    expectRateLimitFields(await t.http.get('/api/messages').set('Authorization', bearer(KEYS[3])).expect(200), LIMIT - 1);
  });

  it('counts a key across API processes (the counters live in PostgreSQL)', async () => {
    const key = bearer(KEYS[4]);
    expectRateLimitFields(await t.http.get('/api/messages').set('Authorization', key).expect(200), 2);
    expectRateLimitFields(await second.http.get('/api/messages').set('Authorization', key).expect(200), 1);
    expectRateLimitFields(await t.http.get('/api/messages').set('Authorization', key).expect(200), 0);
    expectRateLimited(await second.http.get('/api/messages').set('Authorization', key));
  });

  it('answers 401 before counting: wrong keys neither get 429 nor use up a budget', async () => {
    for (let i = 0; i < LIMIT + 2; i++) {
      const res = await t.http.get('/api/messages').set('Authorization', bearer(`not-${KEYS[5]}`));
      expect(res.status).toBe(401);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    for (let i = 0; i < LIMIT + 2; i++) expect((await t.http.get('/api/messages')).status).toBe(401);
    expectRateLimitFields(await t.http.get('/api/messages').set('Authorization', bearer(KEYS[5])).expect(200), LIMIT - 1);
  });

  it('neither counts nor limits /health and the webhooks', async () => {
    const key = bearer(KEYS[6]);
    for (let i = 0; i < LIMIT; i++) await t.http.get('/api/messages').set('Authorization', key).expect(200);
    expectRateLimited(await t.http.get('/api/messages').set('Authorization', key));
    for (let i = 0; i < LIMIT + 2; i++) {
      for (const res of [
        await t.http.get('/health').set('Authorization', key),
        await t.http.get('/health/ready').set('Authorization', key),
        await t.http.post('/api/webhooks/sms').set('Authorization', key).send({ ...INBOUND_SMS, messaging_provider_id: `SM-RL-${i}` }),
      ]) {
        expect(res.status).toBe(200);
        expect(res.headers['ratelimit-limit']).toBeUndefined();
        expect(res.headers['ratelimit-policy']).toBeUndefined();
      }
    }
    expect(await t.stored()).toMatchObject({ messages: LIMIT + 2 });
  });

  it('documents 429 with Retry-After and the RateLimit fields (/docs-json)', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>> };
    const tooMany = doc.paths['/api/messages/sms'].post.responses['429'];
    expect(Object.keys(tooMany.headers ?? {})).toEqual(expect.arrayContaining(['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy']));
    expect(doc.paths['/api/webhooks/sms'].post.responses['429']).toBeUndefined();
  });
});

describe('Rate limit window (e2e, 2 s window)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ API_KEYS: 'window-key', RATE_LIMIT_REQUESTS: String(LIMIT), RATE_LIMIT_WINDOW_S: '2' });
  });
  afterAll(async () => t.close());

  it('accepts requests again once Retry-After has passed, with a full budget', async () => {
    const key = bearer('window-key');
    for (let i = 0; i < LIMIT; i++) await t.http.get('/api/messages').set('Authorization', key).expect(200);
    const retryAfter = expectRateLimited(await t.http.get('/api/messages').set('Authorization', key), 2);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    expectRateLimitFields(await t.http.get('/api/messages').set('Authorization', key).expect(200), LIMIT - 1, 2);
  });
});

describe('Rate limit while the API runs open (e2e, no API_KEYS): per client IP', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'development', RATE_LIMIT_REQUESTS: String(LIMIT), RATE_LIMIT_WINDOW_S: String(WINDOW_S) });
  });
  beforeEach(async () => t.reset()); // also empties the counters, which other open apps of this run shared (same IP)
  afterAll(async () => t.close());

  it('limits requests from one address, whatever Authorization they carry', async () => {
    expectRateLimitFields(await t.http.get('/api/messages').expect(200), 2);
    expectRateLimitFields(await t.http.get('/api/messages').set('Authorization', 'Bearer a').expect(200), 1);
    expectRateLimitFields(await t.http.get('/api/conversations').set('Authorization', 'Bearer b').expect(200), 0);
    expectRateLimited(await t.http.get('/api/messages'));
    const [row] = await t.dataSource.query(`SELECT key, points FROM client_rate_limits`);
    expect(row).toEqual({ key: expect.stringMatching(/^client:default:ip:(::ffff:)?127\.0\.0\.1$/), points: LIMIT + 1 });
  });
});

describe('Rate limit off (e2e, RATE_LIMIT_REQUESTS=0)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ API_KEYS: 'unlimited', RATE_LIMIT_REQUESTS: '0' });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('limits nothing, sends no RateLimit fields and counts nothing', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await t.http.get('/api/messages').set('Authorization', 'Bearer unlimited').expect(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    expect(await t.count('SELECT count(*) FROM client_rate_limits')).toBe(0);
  });
});

describe('Default rate limit (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ API_KEYS: 'default-key' });
  });
  afterAll(async () => t.close());

  it('is 6000 requests a minute per key', async () => {
    const res = await t.http.get('/api/messages').set('Authorization', 'Bearer default-key').expect(200);
    expect(res.headers['ratelimit-policy']).toBe('6000;w=60');
    expect(res.headers['ratelimit-limit']).toBe('6000');
  });
});
