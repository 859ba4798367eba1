import type { Response } from 'supertest';
import { emailBody, smsBody } from './support/messages';
import { startTestApp, TestApp } from './support/test-app';

/**
 * API keys (issue 4): with API_KEYS set, every client endpoint answers 401 problem+json
 * with a `WWW-Authenticate: Bearer` challenge (RFC 6750) without a valid key, and works
 * with one; /health and the providers' webhooks stay open; /docs can be turned off.
 */

const KEY = 'k1';
const SECOND_KEY = 'second-Key_2.~+/=';
const INBOUND_SMS = { from: '+12015550123', to: '+12015550100', type: 'sms', messaging_provider_id: 'SM-AUTH-1', body: 'hi', attachments: null };
const INBOUND_EMAIL = { from: 'ann@example.com', to: 'team@example.com', xillio_id: 'XL-AUTH-1', body: '<p>hi</p>', attachments: [] };

type Method = 'get' | 'post';

/** Every client endpoint, with a request that would succeed (or fail on its own merits) given a key. */
// Every row has three entries: jest passes a `done` callback to a test given fewer arguments than it takes.
const CLIENT_ENDPOINTS: Array<[Method, string, Record<string, unknown> | undefined]> = [
  ['post', '/messages/send', { ...smsBody('via send'), from: undefined, from_: '+12015550100' }],
  ['post', '/api/messages/sms', smsBody('via sms')],
  ['post', '/api/messages/email', emailBody('<p>via email</p>')],
  ['get', '/api/messages', undefined],
  ['get', '/api/messages/1', undefined],
  ['post', '/api/messages/1/retry', undefined],
  ['get', '/api/conversations', undefined],
  ['get', '/api/conversations/1', undefined],
  ['get', '/api/conversations/1/messages', undefined],
  ['get', '/api/opt-outs', undefined],
];

/** The OpenAPI paths of CLIENT_ENDPOINTS (`/api/messages/{id}`), as /docs-json names them. */
const CLIENT_OPERATIONS = CLIENT_ENDPOINTS.map(([method, path]) => `${method} ${path.replace(/\/1(?=\/|$)/, '/{id}')}`).sort();

/** Asserts a 401 problem with an RFC 6750 challenge; `invalid` when the request carried a (wrong) Bearer key. */
function expectUnauthorized(res: Response, invalid: boolean): void {
  expect(res.status).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(res.text)).toMatchObject({ status: 401, code: 'unauthorized', title: 'Unauthorized', type: '/problems/unauthorized' });
  const challenge = res.headers['www-authenticate'] as string;
  expect(challenge).toMatch(/^Bearer realm="messaging-service"/);
  if (invalid) expect(challenge).toContain('error="invalid_token"');
  else expect(challenge).not.toContain('error=');
}

function request(t: TestApp, method: Method, path: string, body?: Record<string, unknown>, authorization?: string) {
  let req = method === 'get' ? t.http.get(path) : t.http.post(path);
  if (authorization !== undefined) req = req.set('Authorization', authorization);
  return body ? req.send(body) : req;
}

describe('API keys (e2e, API_KEYS set)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ API_KEYS: `${KEY}, ${SECOND_KEY}` });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it.each(CLIENT_ENDPOINTS)('%s %s: 401 without Authorization, nothing stored', async (method, path, body) => {
    expectUnauthorized(await request(t, method, path, body), false);
    expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
  });

  it.each(CLIENT_ENDPOINTS)('%s %s: 401 invalid_token with a wrong key, nothing stored', async (method, path, body) => {
    for (const wrong of ['k2', 'k', 'k1k1', 'K1', `${KEY} extra`, '', 'x'.repeat(4000)]) {
      expectUnauthorized(await request(t, method, path, body, `Bearer ${wrong}`), wrong !== '' && !wrong.includes(' '));
    }
    expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
  });

  it.each(CLIENT_ENDPOINTS)('%s %s: 401 for credentials in another scheme or place', async (method, path, body) => {
    for (const authorization of [`Basic ${Buffer.from(`${KEY}:`).toString('base64')}`, KEY, `Token ${KEY}`, `Bearer${KEY}`]) {
      expectUnauthorized(await request(t, method, path, body, authorization), false);
    }
    const inQuery = await (method === 'get' ? t.http.get(`${path}?api_key=${KEY}`) : t.http.post(`${path}?api_key=${KEY}`).send(body));
    expectUnauthorized(inQuery, false);
    expect(await t.stored()).toEqual({ messages: 0, conversations: 0, jobs: 0 });
  });

  it('works with either key (scheme case-insensitive) on every client endpoint', async () => {
    const statuses: Record<string, number> = {};
    for (const [i, [method, path, body]] of CLIENT_ENDPOINTS.entries()) {
      const authorization = i % 2 ? `Bearer ${KEY}` : `bearer ${SECOND_KEY}`;
      statuses[`${method} ${path}`] = (await request(t, method, path, body, authorization)).status;
    }
    expect(statuses).toEqual({
      'get /api/opt-outs': 200,
      'post /messages/send': 202,
      'post /api/messages/sms': 202,
      'post /api/messages/email': 202,
      'get /api/messages': 200,
      'get /api/messages/1': 200,
      'post /api/messages/1/retry': 409, // past the guard: message 1 is not failed
      'get /api/conversations': 200,
      'get /api/conversations/1': 200,
      'get /api/conversations/1/messages': 200,
    });
    expect(await t.stored()).toMatchObject({ messages: 3, conversations: 2 });
  });

  it('never echoes a key in an answer', async () => {
    const wrong = 'wrong-key-0123456789abcdef';
    const res = await t.http.get('/api/messages').set('Authorization', `Bearer ${wrong}`);
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.headers) + res.text).not.toContain(wrong);
  });

  it('leaves /health and /health/ready open', async () => {
    await t.http.get('/health').expect(200);
    await t.http.get('/health/ready').expect(200);
    await t.http.get('/health').set('Authorization', 'Bearer wrong').expect(200);
  });

  it('does not apply API keys to the webhooks (with no key or a wrong one, they store the message)', async () => {
    await t.http.post('/api/webhooks/sms').send(INBOUND_SMS).expect(200);
    await t.http.post('/api/webhooks/email').set('Authorization', 'Bearer wrong').send(INBOUND_EMAIL).expect(200);
    const receipt = await t.http.post('/api/webhooks/status').send({ provider_message_id: 'nope', status: 'delivered' });
    expect(receipt.status).toBe(404); // past any guard: no such message
    expect(await t.stored()).toMatchObject({ messages: 2 });
  });

  it('documents bearer auth and 401 on every client operation, and on no other (/docs-json)', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, { headers?: Record<string, unknown> } | undefined> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.components.securitySchemes['api-key']).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    const secured: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method} ${path}`;
        if (path.startsWith('/health') || path.startsWith('/api/webhooks/')) {
          expect([name, operation.security]).toEqual([name, undefined]);
          // Webhooks answer 401 for a bad signature (test/webhook-signatures.e2e-spec.ts), never for an API key.
          const unauthorized = operation.responses['401'] as { headers?: Record<string, unknown> } | undefined;
          expect([name, unauthorized?.headers?.['WWW-Authenticate']]).toEqual([name, undefined]);
        } else {
          secured.push(name);
          expect([name, operation.security]).toEqual([name, [{ 'api-key': [] }]]);
          expect([name, Object.keys(operation.responses)]).toEqual([name, expect.arrayContaining(['401', '429'])]);
        }
      }
    }
    // A new client endpoint must be added to CLIENT_ENDPOINTS, so that the tests above cover it.
    expect(secured.sort()).toEqual(CLIENT_OPERATIONS);
  });
});

describe('Docs switched off (e2e, DOCS_ENABLED=false)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DOCS_ENABLED: 'false', API_KEYS: KEY });
  });
  afterAll(async () => t.close());

  it('serves neither /docs nor /docs-json, and the API still works', async () => {
    for (const path of ['/docs', '/docs/', '/docs-json', '/docs/swagger-ui-init.js']) {
      const res = await t.http.get(path);
      expect([path, res.status]).toEqual([path, 404]);
    }
    await t.http.get('/api/conversations').set('Authorization', `Bearer ${KEY}`).expect(200);
    await t.http.get('/health').expect(200);
  });
});

describe('Docs on by default (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ API_KEYS: KEY });
  });
  afterAll(async () => t.close());

  it('serves /docs and /docs-json without a key', async () => {
    expect((await t.http.get('/docs/').expect(200)).text).toContain('swagger-ui');
    await t.http.get('/docs-json').expect(200);
  });
});

describe('No API_KEYS outside production (e2e): the client API runs open', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'development' });
  });
  beforeEach(async () => t.reset());
  afterAll(async () => t.close());

  it('answers client endpoints without Authorization, and ignores one', async () => {
    await t.http.post('/api/messages/sms').send(smsBody()).expect(202);
    await t.http.get('/api/messages').set('Authorization', 'Bearer anything').expect(200);
    expect(await t.stored()).toMatchObject({ messages: 1 });
  });
});
