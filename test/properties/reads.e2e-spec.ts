import fc from 'fast-check';
import type { Response } from 'supertest';
import { badIdFilterArb, badPageArb, badPathIdArb, badPerPageArb, invalidJsonTextArb, junkJsonArb, pageParamsArb, PHONE_POOL, randomQueryArb, unknownParamsArb, wrongContentTypeArb } from '../support/arbitraries';
import { waitForQueueIdle } from '../support/messages';
import { script } from '../support/mock-provider';
import {
  assertMalformedProperty,
  assertStoresNothing,
  checkAnswer,
  countRows,
  describeRequest,
  perform,
  printable,
  PROPERTY_APP_ENV,
  PROPERTY_RUNS,
  propertyParams,
  rowDiff,
  SuiteStats,
  type RequestSpec,
} from '../support/property-harness';
import { BODY_LIMIT_BYTES, inboundEmailCaseArb, inboundSmsCaseArb, sendEmailCaseArb, sendSmsCaseArb } from '../support/request-arbitraries';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Property-based tests of the reads (GET /api/messages, /api/messages/:id,
 * /api/conversations, /api/conversations/:id, /api/conversations/:id/messages,
 * /api/opt-outs) and of POST /api/messages/:id/retry, against the real app and
 * PostgreSQL, on a database seeded with random messages (some failed, some opted out):
 * - random query strings and path ids (negative, huge, non-numeric, `%00`, broken
 *   percent-encodings, odd Unicode) and bodies sent to a GET never get a 5xx: a 200 with
 *   consistent pagination headers, or a 4xx problem; nothing is stored;
 * - valid `page`/`per_page`/filters get 200 with the rows the database holds for that
 *   page, in the documented order, `X-Total-Count` and an RFC 8288 `Link` that agree;
 *   existing ids 200, unknown ones 404;
 * - invalid parameters get 422 naming the parameter;
 * - a retry re-queues a failed outbound message (202, one new job), and is 409 for any
 *   other message, 404 for an unknown id, 422 for a recipient who opted out; malformed
 *   retries store nothing.
 * Each endpoint gets PROPERTY_RUNS requests.
 */

const TIMEOUT_MS = 15 * 60_000;
const SEED_SENDS = 120;
const SEED_FAILED = 30;
const SEED_INBOUND = 80;

const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'received'];
const MESSAGE_TYPES = ['sms', 'mms', 'email'];
const DIRECTIONS = ['outbound', 'inbound'];

/** Builds a query string from parameters (values already encoded where they need to be). */
function query(params: Array<[string, string]>): string {
  return params.length ? `?${params.map(([k, v]) => `${k}=${v}`).join('&')}` : '';
}

/** A number with `zeros` in front, if that keeps it within the 9 digits the service reads. */
function withZeros(n: number, zeros: string): string {
  return `${zeros}${n}`.length <= 9 ? `${zeros}${n}` : String(n);
}

/** A page of a list as requested: its parameters, and how the page must come out. */
interface PageCase {
  params: Array<[string, string]>;
  page: number;
  perPage: number;
}

/** Valid `page`/`per_page` plus unknown parameters, with the page they name (`defaultPerPage` when absent). */
function pageCaseArb(defaultPerPage: number): fc.Arbitrary<PageCase> {
  return fc.tuple(pageParamsArb, unknownParamsArb).chain(([p, unknown]) => {
    const params: Array<[string, string]> = Object.entries(unknown);
    if (p.page !== undefined) params.push(['page', withZeros(p.page, p.zeros)]);
    if (p.per_page !== undefined) params.push(['per_page', withZeros(p.per_page, p.zeros)]);
    return fc.shuffledSubarray(params, { minLength: params.length }).map((shuffled) => ({ params: shuffled, page: p.page ?? 1, perPage: p.per_page ?? defaultPerPage }));
  });
}

/**
 * Asserts the pagination headers of a list answer: `X-Total-Count` is `total`, the body
 * has the page's rows, and `Link` has first/last, prev/next where they exist, each on
 * `path` with the request's other parameters, `page` and `per_page`.
 */
function expectPagination(res: Response, path: string, c: PageCase, total: number): void {
  expect(res.headers['x-total-count']).toBe(String(total));
  const rows = res.body as unknown[];
  expect(rows.length).toBe(Math.max(0, Math.min(c.perPage, total - (c.page - 1) * c.perPage)));
  const last = Math.max(1, Math.ceil(total / c.perPage));
  const links = new Map<string, URLSearchParams>();
  for (const [, target, rel] of (res.headers.link as string).matchAll(/<([^>]*)>; rel="(\w+)"/g)) {
    const url = new URL(target, 'http://x');
    expect(url.pathname).toBe(path);
    links.set(rel, url.searchParams);
  }
  const expected: Record<string, number> = { first: 1, last };
  if (c.page > 1) expected.prev = Math.min(c.page - 1, last);
  if (c.page < last) expected.next = c.page + 1;
  expect(Object.fromEntries([...links].map(([rel, p]) => [rel, Number(p.get('page'))]))).toEqual(expected);
  const others = Object.fromEntries(c.params.filter(([k]) => k !== 'page' && k !== 'per_page').map(([k, v]) => [k, decodeURIComponent(v)]));
  for (const params of links.values()) {
    expect(params.get('per_page')).toBe(String(c.perPage));
    const rest = Object.fromEntries([...params].filter(([k]) => k !== 'page' && k !== 'per_page'));
    expect(rest).toEqual(others);
  }
}

/** Asserts a 200 list answer of a malformed-but-accepted query: a JSON array and pagination headers that fit it. */
function expectSaneList(res: Response): void {
  if (res.status !== 200) return;
  expect(Array.isArray(res.body)).toBe(true);
  expect((res.body as unknown[]).length).toBeLessThanOrEqual(100);
  expect(res.headers['x-total-count']).toMatch(/^\d+$/);
  expect(res.headers.link).toMatch(/rel="first"/);
  expect(res.headers.link).toMatch(/rel="last"/);
}

/** Bodies no GET or retry takes: not JSON, a wrong Content-Type, over the limit, a `__proto__` key, nesting too deep. */
const badBodyArb: fc.Arbitrary<Pick<RequestSpec, 'raw'> & { label: string }> = fc.oneof(
  { weight: 5, arbitrary: invalidJsonTextArb('{"a":1}').map((text) => ({ label: 'invalid JSON', raw: { text, contentType: 'application/json' } })) },
  {
    weight: 5,
    arbitrary: fc.tuple(junkJsonArb, fc.option(wrongContentTypeArb, { nil: undefined })).map(([junk, contentType]) => ({ label: `Content-Type ${contentType ?? 'none'}`, raw: { text: JSON.stringify(junk ?? null), contentType } })),
  },
  { weight: 3, arbitrary: junkJsonArb.map((junk) => ({ label: '__proto__ key', raw: { text: `{"__proto__":${JSON.stringify(junk ?? null)}}`, contentType: 'application/json' } })) },
  { weight: 3, arbitrary: fc.integer({ min: 33, max: 300 }).map((depth) => ({ label: `nested ${depth} deep`, raw: { text: `${'['.repeat(depth)}${']'.repeat(depth)}`, contentType: 'application/json' } })) },
  { weight: 1, arbitrary: fc.constant({ label: 'over the body limit', raw: { text: `"${'b'.repeat(BODY_LIMIT_BYTES)}"`, contentType: 'application/json' } }) },
);

/** Malformed requests to a GET endpoint: random path ids (where it has one), random query strings, now and then a body it does not take. */
function malformedGetArb(pathOf: (id: string) => string, idArb: fc.Arbitrary<string>, names: readonly string[]): fc.Arbitrary<RequestSpec> {
  const bodyArb = fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: badBodyArb });
  return fc.tuple(idArb, randomQueryArb(names), bodyArb).map(([id, q, body]) =>
    printable<RequestSpec>({ method: 'GET', path: `${pathOf(id)}${q ? `?${q}` : ''}`, label: body ? body.label : 'random query', raw: body?.raw }, describeRequest),
  );
}

describe('Properties: reads and retry (e2e)', () => {
  let t: TestApp;
  const stats = new SuiteStats();
  let maxMessageId = 0;
  let maxConversationId = 0;

  beforeAll(async () => {
    t = await startTestApp(PROPERTY_APP_ENV);
    await t.app.listen(0);
    await t.reset();
    // Random messages: some refused by the provider (failed), inbound ones with keywords (opt-outs).
    // Half of the refusals on each path: the order in which the worker reaches the two
    // providers is not the order of the sends, and a failed SMS/MMS is needed below.
    await script(
      t,
      Array.from({ length: SEED_FAILED }, (_, i) => ({
        action: 'status' as const,
        status: 400,
        body: { error: { code: 'invalid_number', message: 'Refused by the test' } },
        path: i % 2 === 0 ? ('/sms' as const) : ('/email' as const),
      })),
    );
    // Small bodies: pages of up to 100 messages are read thousands of times.
    const small = (c: { body: Record<string, unknown> }) => JSON.stringify(c.body).length < 1500;
    for (const c of fc.sample(fc.oneof(sendSmsCaseArb, sendEmailCaseArb).filter(small), { numRuns: SEED_SENDS, seed: 11 })) {
      await t.http.post(c.expected.type === 'email' ? '/api/messages/email' : '/api/messages/sms').send(c.body).expect(202);
    }
    for (const c of fc.sample(fc.oneof(inboundSmsCaseArb, inboundEmailCaseArb).filter(small), { numRuns: SEED_INBOUND, seed: 12 })) {
      await t.http.post(c.body.xillio_id !== undefined ? '/api/webhooks/email' : '/api/webhooks/sms').send(c.body).expect(200);
    }
    await waitForQueueIdle(t, 60_000);
    // A failed message whose recipient opted out afterwards (its retry is 422), and one failed by a receipt.
    const [failed] = await t.dataSource.query(`SELECT id, from_address, to_address FROM messages WHERE status = 'failed' AND type <> 'email' ORDER BY id LIMIT 1`);
    await t.http.post('/api/webhooks/sms').send({ from: failed.to_address, to: failed.from_address, type: 'sms', messaging_provider_id: 'seed-stop', body: 'STOP' }).expect(200);
    const [sent] = await t.dataSource.query(`SELECT provider_message_id FROM messages WHERE status = 'sent' ORDER BY id LIMIT 1`);
    await t.http.post('/api/webhooks/status').send({ provider_message_id: sent.provider_message_id, status: 'failed' }).expect(200);
    for (const [i, number] of PHONE_POOL.entries()) {
      await t.http.post('/api/webhooks/sms').send({ from: number, to: PHONE_POOL[(i + 2) % PHONE_POOL.length], type: 'sms', messaging_provider_id: `seed-pool-stop-${i}`, body: 'stop' }).expect(200);
    }
    expect(await t.count(`SELECT count(*) FROM messages WHERE status = 'failed'`)).toBeGreaterThanOrEqual(SEED_FAILED);
    expect(await t.count('SELECT count(*) FROM opt_outs')).toBeGreaterThan(PHONE_POOL.length);
    maxMessageId = await t.count('SELECT coalesce(max(id), 0) AS count FROM messages');
    maxConversationId = await t.count('SELECT coalesce(max(id), 0) AS count FROM conversations');
  }, 120_000);

  afterAll(async () => {
    stats.print('Properties: reads and retry');
    await t?.close();
  });

  // Lists: half random, a quarter valid, a quarter invalid. One resource and retry: a
  // quarter valid (each checked against the database), the rest random.
  const half = Math.ceil(PROPERTY_RUNS / 2);
  const quarter = Math.ceil((PROPERTY_RUNS - half) / 2);
  const rest = PROPERTY_RUNS - half - quarter;
  const validOne = Math.ceil(PROPERTY_RUNS / 4);
  const randomOne = PROPERTY_RUNS - validOne;
  /** An id of an existing row, with leading zeros now and then, or one past the last. */
  const idArb = (max: () => number) =>
    fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 1_000_000 }).map((n) => ((n - 1) % max()) + 1) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 53 - 1 - 1_000_000 }).map((n) => max() + n) }), fc.constantFrom('', '', '', '0', '000')).map(([id, zeros]) => ({ id, text: `${zeros}${id}` }));

  // -------------------------------------------------------------------------
  // Lists
  // -------------------------------------------------------------------------

  const LISTS = [
    {
      path: '/api/messages',
      defaultPerPage: 50,
      filters: fc.record({
        status: fc.option(fc.constantFrom(...MESSAGE_STATUSES), { nil: undefined }),
        type: fc.option(fc.constantFrom(...MESSAGE_TYPES), { nil: undefined }),
        direction: fc.option(fc.constantFrom(...DIRECTIONS), { nil: undefined }),
        conversation_id: fc.option(fc.integer({ min: 1, max: 400 }).map(String), { nil: undefined }),
      }),
      bad: { page: badPageArb, per_page: badPerPageArb, status: fc.constantFrom('bogus', 'FAILED', '', 'queued,sent'), type: fc.constantFrom('fax', 'SMS', ''), direction: fc.constantFrom('in', 'OUTBOUND', ''), conversation_id: badIdFilterArb },
      /** The ids the page must hold, and the total, from the database. */
      async expected(filters: Record<string, string | undefined>, c: PageCase): Promise<{ ids: number[]; total: number }> {
        const where: string[] = [];
        const values: unknown[] = [];
        const columns: Record<string, string> = { status: 'status', type: 'type', direction: 'direction', conversation_id: 'conversation_id' };
        for (const [k, v] of Object.entries(filters)) if (v !== undefined) where.push(`${columns[k]} = $${values.push(v)}`);
        const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
        const total = await t.count(`SELECT count(*) FROM messages ${clause}`, values);
        const rows: { id: string }[] = await t.dataSource.query(`SELECT id FROM messages ${clause} ORDER BY created_at DESC, id DESC LIMIT ${c.perPage} OFFSET ${(c.page - 1) * c.perPage}`, values);
        return { ids: rows.map((r) => Number(r.id)), total };
      },
    },
    {
      path: '/api/conversations',
      defaultPerPage: 20,
      filters: fc.constant({}),
      bad: { page: badPageArb, per_page: badPerPageArb },
      async expected(_filters: Record<string, string | undefined>, c: PageCase): Promise<{ ids: number[]; total: number }> {
        const total = await t.count('SELECT count(*) FROM conversations');
        const rows: { id: string }[] = await t.dataSource.query(`SELECT id FROM conversations ORDER BY last_message_at DESC, id DESC LIMIT ${c.perPage} OFFSET ${(c.page - 1) * c.perPage}`);
        return { ids: rows.map((r) => Number(r.id)), total };
      },
    },
    {
      path: '/api/opt-outs',
      defaultPerPage: 50,
      filters: fc.constant({}),
      bad: { page: badPageArb, per_page: badPerPageArb },
      async expected(_filters: Record<string, string | undefined>, c: PageCase): Promise<{ ids: number[]; total: number }> {
        const total = await t.count('SELECT count(*) FROM opt_outs');
        const rows: { id: string }[] = await t.dataSource.query(`SELECT id FROM opt_outs ORDER BY created_at DESC, id DESC LIMIT ${c.perPage} OFFSET ${(c.page - 1) * c.perPage}`);
        return { ids: rows.map((r) => Number(r.id)), total };
      },
    },
  ];

  LISTS.forEach((list, index) => {
    const names = ['page', 'per_page', ...Object.keys(list.bad)];

    it(`${list.path}: ${half} random query strings and bodies get 200 or a 4xx problem (never a 5xx) and store nothing`, async () => {
      await assertStoresNothing(
        t,
        stats.of(list.path),
        malformedGetArb(() => list.path, fc.constant(''), names),
        (spec) => spec,
        (res, spec) => {
          checkAnswer(res, spec, [200, 400, 413, 415, 422]);
          expectSaneList(res);
        },
        propertyParams(half, 700 + index),
      );
    }, TIMEOUT_MS);

    it(`${list.path}: ${quarter} valid pages and filters get 200 with the rows of that page, X-Total-Count and Link`, async () => {
      await assertStoresNothing(
        t,
        stats.of(list.path),
        fc.tuple(pageCaseArb(list.defaultPerPage), list.filters as fc.Arbitrary<Record<string, string | undefined>>),
        ([c, filters]) => {
          const params: Array<[string, string]> = [...c.params, ...Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined)];
          return { method: 'GET', path: `${list.path}${query(params)}`, label: 'valid' };
        },
        async (res, spec, [c, filters]) => {
          checkAnswer(res, spec, [200]);
          const expected = await list.expected(filters, c);
          expect((res.body as Array<{ id: number }>).map((r) => r.id)).toEqual(expected.ids);
          const params: Array<[string, string]> = [...c.params, ...Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined)];
          expectPagination(res, list.path, { ...c, params }, expected.total);
          for (const row of res.body as Array<Record<string, unknown>>) {
            for (const [k, v] of Object.entries(filters)) if (v !== undefined) expect(String(row[k])).toBe(v);
          }
        },
        propertyParams(quarter, 800 + index),
      );
    }, TIMEOUT_MS);

    it(`${list.path}: ${rest} invalid parameters get 422 naming the parameter, and store nothing`, async () => {
      const badParam = fc.constantFrom(...Object.keys(list.bad)).chain((name) => (list.bad as Record<string, fc.Arbitrary<string>>)[name].map((value) => ({ name, value })));
      await assertStoresNothing(
        t,
        stats.of(list.path),
        fc.tuple(pageCaseArb(list.defaultPerPage), badParam, fc.boolean()),
        ([c, bad, repeated]) => {
          // The bad value replaces the parameter; or a valid parameter is sent twice (a list, not a value).
          const params = c.params.filter(([k]) => k !== bad.name);
          if (repeated && (bad.name === 'page' || bad.name === 'per_page')) params.push([bad.name, '1'], [bad.name, '2']);
          else params.push([bad.name, bad.value]);
          return { method: 'GET', path: `${list.path}${query(params)}`, label: `bad ${bad.name}` };
        },
        (res, spec, [, bad]) => {
          const problem = checkAnswer(res, spec, [422]) as { errors: Array<{ field: string }> };
          expect(problem.errors.map((e) => e.field)).toContain(bad.name);
        },
        propertyParams(rest, 900 + index),
      );
    }, TIMEOUT_MS);
  });

  // -------------------------------------------------------------------------
  // One resource
  // -------------------------------------------------------------------------

  const ONE = [
    { path: '/api/messages/:id', table: 'messages', max: () => maxMessageId },
    { path: '/api/conversations/:id', table: 'conversations', max: () => maxConversationId },
  ];

  ONE.forEach((one, index) => {
    const pathOf = (id: string) => one.path.replace(':id', id);

    it(`${one.path}: ${randomOne} random ids, query strings and bodies get a 4xx problem or 200 (never a 5xx) and store nothing`, async () => {
      await assertMalformedProperty(t, stats.of(one.path), malformedGetArb(pathOf, badPathIdArb, ['page', 'id']), [200, 400, 404, 413, 415, 422], propertyParams(randomOne, 1000 + index));
    }, TIMEOUT_MS);

    it(`${one.path}: ${validOne} existing ids get 200 with the stored row, unknown ones 404`, async () => {
      await assertStoresNothing(
        t,
        stats.of(one.path),
        idArb(one.max),
        ({ text }) => ({ method: 'GET', path: pathOf(text), label: 'valid id' }),
        async (res, spec, { id }) => {
          const [row] = await t.dataSource.query(`SELECT * FROM ${one.table} WHERE id = $1`, [id]);
          if (!row) {
            expect((checkAnswer(res, spec, [404]) as { code: string }).code).toBe('not_found');
            return;
          }
          const body = checkAnswer(res, spec, [200]) as Record<string, unknown>;
          expect(body.id).toBe(id);
          if (one.table === 'messages') {
            expect(body).toMatchObject({ status: row.status, body: row.body, from: row.from_address, to: row.to_address, conversation_id: Number(row.conversation_id) });
          } else {
            expect(body).toMatchObject({ channel: row.channel, participants: row.participants, message_count: row.message_count });
            expect(row.message_count).toBe(await t.count('SELECT count(*) FROM messages WHERE conversation_id = $1', [id]));
          }
        },
        propertyParams(validOne, 1100 + index),
      );
    }, TIMEOUT_MS);
  });

  {
    const path = '/api/conversations/:id/messages';
    const pathOf = (id: string) => `/api/conversations/${id}/messages`;

    it(`${path}: ${half} random ids, query strings and bodies get 200 or a 4xx problem (never a 5xx) and store nothing`, async () => {
      await assertStoresNothing(
        t,
        stats.of(path),
        malformedGetArb(pathOf, fc.oneof(badPathIdArb, fc.integer({ min: 1, max: 50 }).map(String)), ['page', 'per_page']),
        (spec) => spec,
        (res, spec) => {
          checkAnswer(res, spec, [200, 400, 404, 413, 415, 422]);
          expectSaneList(res);
        },
        propertyParams(half, 1200),
      );
    }, TIMEOUT_MS);

    it(`${path}: ${quarter} valid ids and pages get the conversation's messages oldest first (unknown ids 404)`, async () => {
      await assertStoresNothing(
        t,
        stats.of(path),
        fc.tuple(idArb(() => maxConversationId), pageCaseArb(50)),
        ([{ text }, c]) => ({ method: 'GET', path: `${pathOf(text)}${query(c.params)}`, label: 'valid' }),
        async (res, spec, [{ id }, c]) => {
          const exists = (await t.count('SELECT count(*) FROM conversations WHERE id = $1', [id])) > 0;
          if (!exists) {
            checkAnswer(res, spec, [404]);
            return;
          }
          checkAnswer(res, spec, [200]);
          const total = await t.count('SELECT count(*) FROM messages WHERE conversation_id = $1', [id]);
          const rows: { id: string }[] = await t.dataSource.query(
            `SELECT id FROM messages WHERE conversation_id = $1 ORDER BY timestamp ASC, id ASC LIMIT ${c.perPage} OFFSET ${(c.page - 1) * c.perPage}`,
            [id],
          );
          expect((res.body as Array<{ id: number }>).map((r) => r.id)).toEqual(rows.map((r) => Number(r.id)));
          expectPagination(res, new URL(spec.path, 'http://x').pathname, c, total);
        },
        propertyParams(quarter, 1300),
      );
    }, TIMEOUT_MS);

    it(`${path}: ${rest} invalid pages get 422 naming the parameter`, async () => {
      const badParam = fc.oneof(badPageArb.map((value) => ({ name: 'page', value })), badPerPageArb.map((value) => ({ name: 'per_page', value })));
      await assertStoresNothing(
        t,
        stats.of(path),
        fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), pageCaseArb(50), badParam),
        ([n, c, bad]) => ({ method: 'GET', path: `${pathOf(String(((n - 1) % maxConversationId) + 1))}${query([...c.params.filter(([k]) => k !== bad.name), [bad.name, bad.value]])}`, label: `bad ${bad.name}` }),
        (res, spec, [, , bad]) => {
          const problem = checkAnswer(res, spec, [422]) as { errors: Array<{ field: string }> };
          expect(problem.errors.map((e) => e.field)).toContain(bad.name);
        },
        propertyParams(rest, 1400),
      );
    }, TIMEOUT_MS);
  }

  // -------------------------------------------------------------------------
  // Retry
  // -------------------------------------------------------------------------

  {
    const path = '/api/messages/:id/retry';
    const pathOf = (id: string) => `/api/messages/${id}/retry`;
    /** Path ids that name no message (or are no id): a retry with them must change nothing. */
    const noMessageIdArb = badPathIdArb.filter((id) => !/^\d+$/.test(id) || Number(id) === 0 || Number(id) > maxMessageId + 1_000_000);

    it(`${path}: ${randomOne} bad ids, and existing ids with bodies the parser refuses, get a 4xx problem (never a 5xx) and change nothing`, async () => {
      const arb = fc.oneof(
        fc.tuple(noMessageIdArb, fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: badBodyArb })).map(([id, body]) => ({ id, body })),
        fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), badBodyArb).map(([n, body]) => ({ id: String(((n - 1) % maxMessageId) + 1), body })),
      );
      await assertStoresNothing(
        t,
        stats.of(path),
        fc.tuple(arb, fc.option(fc.constantFrom('wait=0', 'wait=5', 'junk'), { nil: undefined })),
        ([{ id, body }, prefer]) => ({ method: 'POST', path: pathOf(id), headers: prefer ? { Prefer: prefer } : undefined, raw: body?.raw, label: body?.label ?? 'bad id' }),
        (res, spec) => {
          checkAnswer(res, spec, [400, 404, 413, 415, 422]);
        },
        propertyParams(randomOne, 1500),
      );
      // A refused retry changed no message either.
      expect(await t.count(`SELECT count(*) FROM messages WHERE status = 'failed'`)).toBeGreaterThanOrEqual(SEED_FAILED);
    }, TIMEOUT_MS);

    it(`${path}: ${validOne} retries re-queue failed outbound messages (202, one job) and are 409/404/422 otherwise`, async () => {
      const endpoint = stats.of(path);
      await fc.assert(
        fc.asyncProperty(idArb(() => maxMessageId), fc.constantFrom(undefined, 'wait=0', 'respond-async'), async ({ id, text }, prefer) => {
          const [row] = await t.dataSource.query(
            `SELECT m.status, m.direction, EXISTS (SELECT 1 FROM opt_outs o WHERE o.channel = 'sms' AND m.type <> 'email' AND o.sender = m.from_address AND o.recipient = m.to_address) AS opted_out
               FROM messages m WHERE m.id = $1`,
            [id],
          );
          const spec: RequestSpec = { method: 'POST', path: pathOf(text), headers: prefer ? { Prefer: prefer } : undefined, label: row ? `${row.direction} ${row.status}` : 'unknown id' };
          const before = await countRows(t);
          const res = await perform(t, spec);
          endpoint.record(res.status);
          const after = await countRows(t);
          if (!row) {
            expect((checkAnswer(res, spec, [404]) as { code: string }).code).toBe('not_found');
          } else if (row.direction !== 'outbound' || row.status !== 'failed') {
            expect((checkAnswer(res, spec, [409]) as { code: string }).code).toBe('conflict');
          } else if (row.opted_out) {
            expect((checkAnswer(res, spec, [422]) as { code: string }).code).toBe('recipient_opted_out');
            expect(await t.count(`SELECT count(*) FROM messages WHERE id = $1 AND status = 'failed'`, [id])).toBe(1);
          } else {
            const message = checkAnswer(res, spec, [202]) as Record<string, unknown>;
            expect(message).toMatchObject({ id, status: 'queued', attempts: 0, error: null, provider_message_id: null, sent_at: null });
            expect(rowDiff(before, after)).toEqual({ jobs: 1 });
            return;
          }
          expect(rowDiff(before, after)).toEqual({});
        }),
        propertyParams(validOne, 1600),
      );
    }, TIMEOUT_MS);
  }

  it('every endpoint got PROPERTY_RUNS requests, none answered 5xx, none stored a stray row', () => {
    expect(stats.all().map((s) => s.endpoint).sort()).toEqual(
      ['/api/messages', '/api/conversations', '/api/opt-outs', '/api/messages/:id', '/api/conversations/:id', '/api/conversations/:id/messages', '/api/messages/:id/retry'].sort(),
    );
    for (const s of stats.all()) {
      expect({ endpoint: s.endpoint, fiveXX: s.fiveXX, strayRows: s.strayRows }).toEqual({ endpoint: s.endpoint, fiveXX: 0, strayRows: 0 });
      expect(s.requests).toBeGreaterThanOrEqual(PROPERTY_RUNS);
    }
  });
});
