import fc from 'fast-check';
import { idempotencyKeyArb, PHONE_POOL } from '../support/arbitraries';
import {
  assertMalformedProperty,
  checkAnswer,
  countRows,
  perform,
  PROPERTY_APP_ENV,
  PROPERTY_RUNS,
  propertyParams,
  rowDiff,
  SuiteStats,
  type RequestSpec,
} from '../support/property-harness';
import {
  malformedPostArb,
  SEND_ANY_RULES,
  SEND_EMAIL_RULES,
  SEND_SMS_RULES,
  sendAnyCaseArb,
  sendEmailCaseArb,
  sendSmsCaseArb,
  type BodyRules,
  type MessageCase,
} from '../support/request-arbitraries';
import { startTestApp, type TestApp } from '../support/test-app';
import { expectStoredMessage, stateBefore } from '../support/property-checks';

/**
 * Property-based tests of the client send endpoints (POST /messages/send,
 * /api/messages/sms, /api/messages/email) against the real app and PostgreSQL:
 * - malformed requests (broken fields, junk, odd Unicode, `__proto__` keys, bad JSON,
 *   wrong Content-Type, oversized bodies, bad Idempotency-Keys) are refused with a 4xx
 *   problem, never a 5xx, and store nothing;
 * - valid bodies (random E.164 numbers in any notation, email addresses with display
 *   names, Unicode bodies up to the limits, 0..10 attachments, zoned timestamps) are
 *   answered 202 and store exactly one message, one job, and the conversation when it
 *   is new; with an Idempotency-Key, a repeat replays the first answer and stores
 *   nothing, a reuse with another body is 422; a send to a recipient who replied STOP
 *   is 422 and stores nothing.
 * Each endpoint gets PROPERTY_RUNS requests: four fifths malformed, a fifth valid
 * (a valid send costs about five malformed ones).
 */

const VALID_RUNS = Math.ceil(PROPERTY_RUNS / 5);
const MALFORMED_RUNS = PROPERTY_RUNS - VALID_RUNS;
const TIMEOUT_MS = 15 * 60_000;

const ENDPOINTS: ReadonlyArray<{ rules: BodyRules; cases: fc.Arbitrary<MessageCase> }> = [
  { rules: SEND_ANY_RULES, cases: sendAnyCaseArb },
  { rules: SEND_SMS_RULES, cases: sendSmsCaseArb },
  { rules: SEND_EMAIL_RULES, cases: sendEmailCaseArb },
];

/** The JSON of a value with object keys sorted at every level: equal for bodies the service fingerprints alike (RFC 8785 for strings, lists and null). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What the app must remember of each Idempotency-Key that created a message (the model of the key store). */
interface UsedKey {
  header: string;
  path: string;
  body: Record<string, unknown>;
  canonical: string;
  /** The first answer's body, which a replay repeats byte for byte. */
  answer: string;
}

/** How a valid send uses an Idempotency-Key: none, a new one, the same request again, or an earlier key with this body. */
const keyUseArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ use: 'none' as const }) },
  { weight: 3, arbitrary: idempotencyKeyArb.map((k) => ({ use: 'fresh' as const, ...k })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ use: 'repeat' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ use: 'reuse' as const, pick })) },
);

/** Prefer values that ask for no wait: the answer must still be 202 at once. */
const preferArb = fc.constantFrom(undefined, 'wait=0', 'wait=abc', 'respond-async', 'wait=-1');

describe('Properties: client send endpoints (e2e)', () => {
  let t: TestApp;
  const stats = new SuiteStats();
  /** Keys that created a message, by key (one scope: no bearer token). */
  const usedKeys = new Map<string, UsedKey>();

  beforeAll(async () => {
    // ROLE=api: nothing here depends on delivery, and a worker delivering every accepted
    // message in this process would slow the properties down by a third.
    t = await startTestApp({ ...PROPERTY_APP_ENV, ROLE: 'api' });
    await t.app.listen(0); // one server for all requests (supertest would listen anew per request)
    await t.reset();
    // Some numbers of the pool opted out of others: random sends between pool numbers meet them.
    for (let i = 0; i < PHONE_POOL.length; i++) {
      const recipient = PHONE_POOL[i];
      const sender = PHONE_POOL[(i + 1) % PHONE_POOL.length];
      const res = await t.http
        .post('/api/webhooks/sms')
        .send({ from: recipient, to: sender, type: 'sms', messaging_provider_id: `seed-stop-${i}`, body: i % 2 ? 'STOP' : ' unsubscribe\n' });
      expect(res.status).toBe(200);
    }
    expect(await t.count('SELECT count(*) FROM opt_outs')).toBe(PHONE_POOL.length);
  }, 60_000);

  afterAll(async () => {
    stats.print('Properties: client send endpoints');
    await t?.close();
  });

  ENDPOINTS.forEach(({ rules, cases }, index) => {
    it(`${rules.path}: ${MALFORMED_RUNS} malformed requests get a 4xx problem (never a 5xx) and store nothing`, async () => {
      await assertMalformedProperty(t, stats.of(rules.path), malformedPostArb(rules, cases.map((c) => c.body)), [400, 413, 415, 422], propertyParams(MALFORMED_RUNS, 100 + index));
    }, TIMEOUT_MS);

    it(`${rules.path}: ${VALID_RUNS} valid bodies get 202 and store one message and one job (Idempotency-Key: replay, reuse)`, async () => {
      const endpoint = stats.of(rules.path);
      await fc.assert(
        fc.asyncProperty(cases, keyUseArb, preferArb, async (c, keyUse, prefer) => {
          // Which key, and which body: a repeat sends an earlier keyed request of this endpoint again.
          let body = c.body;
          let key: { header: string; key: string } | undefined;
          if (keyUse.use === 'fresh') key = { header: keyUse.header, key: keyUse.key };
          const ofThisEndpoint = [...usedKeys.entries()].filter(([, u]) => u.path === rules.path);
          if (keyUse.use === 'repeat' && ofThisEndpoint.length > 0) {
            const [k, used] = ofThisEndpoint[keyUse.pick % ofThisEndpoint.length];
            key = { header: used.header, key: k };
            body = used.body;
          }
          if (keyUse.use === 'reuse' && usedKeys.size > 0) {
            const [k, used] = [...usedKeys.entries()][keyUse.pick % usedKeys.size];
            key = { header: used.header, key: k };
          }
          const earlier = key ? usedKeys.get(key.key) : undefined;
          const replay = earlier !== undefined && earlier.path === rules.path && earlier.canonical === canonical(body);

          const headers: Record<string, string> = {};
          if (key) headers['Idempotency-Key'] = key.header;
          if (prefer !== undefined) headers.Prefer = prefer;
          const spec: RequestSpec = { method: 'POST', path: rules.path, headers, json: body, label: 'valid' };

          const before = await stateBefore(t, c.expected.type === 'email' ? 'email' : 'sms', c.expected.from, c.expected.to);
          const sentAt = Date.now();
          const res = await perform(t, spec);
          endpoint.record(res.status);

          if (replay) {
            // The same key with the same request: the first answer again, byte for byte; nothing stored.
            checkAnswer(res, spec, [202]);
            expect(res.headers['idempotent-replayed']).toBe('true');
            expect(res.text).toBe(earlier.answer);
            expect(rowDiff(before.rows, await countRows(t))).toEqual({});
            return;
          }
          if (earlier) {
            // The key created a message for another request: 422 idempotency_key_reused, nothing stored.
            const problem = checkAnswer(res, spec, [422]) as Record<string, unknown>;
            expect(problem.code).toBe('idempotency_key_reused');
            expect(rowDiff(before.rows, await countRows(t))).toEqual({});
            return;
          }
          if (before.optedOut) {
            const problem = checkAnswer(res, spec, [422]) as Record<string, unknown>;
            expect(problem.code).toBe('recipient_opted_out');
            expect(rowDiff(before.rows, await countRows(t))).toEqual({});
            return;
          }
          const message = checkAnswer(res, spec, [202]) as Record<string, unknown>;
          expect(res.headers['preference-applied']).toBeUndefined();
          expect(res.headers['idempotent-replayed']).toBeUndefined();
          expectStoredMessage(message, c.expected, { direction: 'outbound', status: 'queued', sentAt, receivedAt: Date.now() });
          if (before.conversationId !== null) expect(message.conversation_id).toBe(before.conversationId);
          expect(rowDiff(before.rows, await countRows(t))).toEqual({
            messages: 1,
            jobs: 1,
            ...(before.conversationId === null ? { conversations: 1 } : {}),
            ...(key ? { idempotency_keys: 1 } : {}),
          });
          if (key) usedKeys.set(key.key, { header: key.header, path: rules.path, body, canonical: canonical(body), answer: res.text });
        }),
        propertyParams(VALID_RUNS, 200 + index),
      );
    }, TIMEOUT_MS);
  });

  it('every endpoint got PROPERTY_RUNS requests, none answered 5xx, none stored a stray row', () => {
    for (const { rules } of ENDPOINTS) {
      const s = stats.of(rules.path);
      expect({ endpoint: rules.path, fiveXX: s.fiveXX, strayRows: s.strayRows }).toEqual({ endpoint: rules.path, fiveXX: 0, strayRows: 0 });
      expect(s.requests).toBeGreaterThanOrEqual(PROPERTY_RUNS);
    }
  });
});
