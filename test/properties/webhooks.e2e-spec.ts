import fc from 'fast-check';
import { keywordOf, providerIdArb } from '../support/arbitraries';
import { waitForQueueIdle } from '../support/messages';
import { expectStoredMessage, stateBefore } from '../support/property-checks';
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
  inboundEmailCaseArb,
  inboundSmsCaseArb,
  malformedPostArb,
  receiptFieldsArb,
  sendEmailCaseArb,
  sendSmsCaseArb,
  WEBHOOK_EMAIL_RULES,
  WEBHOOK_SMS_RULES,
  WEBHOOK_STATUS_RULES,
} from '../support/request-arbitraries';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Property-based tests of the providers' webhooks (POST /api/webhooks/sms,
 * /api/webhooks/email, /api/webhooks/status), unsigned (no WEBHOOK_SECRET), against the
 * real app and PostgreSQL:
 * - malformed requests are refused with a 4xx problem, never a 5xx, and store nothing
 *   (no message, conversation, opt-out or held receipt);
 * - a valid inbound message with a new provider id is answered 200 and stored once (its
 *   conversation too when new); delivered again with the same id (whatever its body) it
 *   answers 200 with the stored message and stores nothing; an SMS/MMS that is only an
 *   opt-out/opt-in keyword adds/removes the pair's opt-out, unknown fields are ignored;
 * - a valid delivery receipt moves a `sent` message to its status (final statuses never
 *   move), answers 200 with the message and stores nothing; a receipt for an id no
 *   outbound message has (none pending) is 404.
 * Each endpoint gets PROPERTY_RUNS requests; the inbound endpoints a fifth of them
 * valid, the receipts half.
 */

const TIMEOUT_MS = 15 * 60_000;
/** Outbound messages delivered before the receipts' property, for receipts to name. */
const SENT_MESSAGES = 150;

/** A delivery receipt's target: a delivered outbound message (picked by index), one of another provider, or an id nobody has. */
const receiptTargetArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat().map((pick) => ({ target: 'message' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ target: 'other provider' as const, pick })) },
  { weight: 2, arbitrary: providerIdArb.map((id) => ({ target: 'unknown' as const, id: `unknown-${id}` })) },
);

/** How an inbound webhook's provider id is chosen: new (the generated one), or one delivered before. */
const deliveryArb = fc.oneof({ weight: 4, arbitrary: fc.constant({ again: false, pick: 0 }) }, { weight: 1, arbitrary: fc.nat().map((pick) => ({ again: true, pick })) });

describe('Properties: provider webhooks (e2e)', () => {
  let t: TestApp;
  const stats = new SuiteStats();

  beforeAll(async () => {
    t = await startTestApp(PROPERTY_APP_ENV);
    await t.app.listen(0);
    await t.reset();
  }, 60_000);

  afterAll(async () => {
    stats.print('Properties: provider webhooks');
    await t?.close();
  });

  const INBOUND = [
    { rules: WEBHOOK_SMS_RULES, cases: inboundSmsCaseArb, idField: 'messaging_provider_id', channel: 'sms' as const },
    { rules: WEBHOOK_EMAIL_RULES, cases: inboundEmailCaseArb, idField: 'xillio_id', channel: 'email' as const },
  ];

  INBOUND.forEach(({ rules, cases, idField, channel }, index) => {
    const validRuns = Math.ceil(PROPERTY_RUNS / 5);
    const malformedRuns = PROPERTY_RUNS - validRuns;

    it(`${rules.path}: ${malformedRuns} malformed requests get a 4xx problem (never a 5xx) and store nothing`, async () => {
      await assertMalformedProperty(t, stats.of(rules.path), malformedPostArb(rules, cases.map((c) => c.body)), [400, 413, 415, 422], propertyParams(malformedRuns, 300 + index));
    }, TIMEOUT_MS);

    it(`${rules.path}: ${validRuns} valid messages get 200 and are stored once; a redelivery stores nothing; keywords opt out and in`, async () => {
      const endpoint = stats.of(rules.path);
      /** Provider ids stored so far, with the message each stored. */
      const delivered: Array<{ providerId: string; id: number }> = [];
      const byProviderId = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(cases, deliveryArb, async (c, delivery) => {
          const body = { ...c.body };
          let providerId = c.providerId;
          if (delivery.again && delivered.length > 0) {
            providerId = delivered[delivery.pick % delivered.length].providerId;
            body[idField] = providerId;
          }
          const storedId = byProviderId.get(providerId);
          const spec: RequestSpec = { method: 'POST', path: rules.path, json: body, label: storedId ? 'redelivery' : 'new' };
          // The opt-out pair of an inbound message: our number (`to`) and who replied (`from`).
          const before = await stateBefore(t, channel, c.expected.to, c.expected.from);
          const sentAt = Date.now();
          const res = await perform(t, spec);
          endpoint.record(res.status);
          const answer = checkAnswer(res, spec, [200]) as { received: boolean; message: Record<string, unknown> };
          expect(answer.received).toBe(true);
          const after = await countRows(t);

          if (storedId !== undefined) {
            expect(answer.message.id).toBe(storedId);
            expect(answer.message.provider_message_id).toBe(providerId);
            expect(rowDiff(before.rows, after)).toEqual({});
            return;
          }
          expectStoredMessage(answer.message, c.expected, { direction: 'inbound', status: 'received', sentAt, receivedAt: Date.now(), providerMessageId: providerId });
          if (before.conversationId !== null) expect(answer.message.conversation_id).toBe(before.conversationId);
          const keyword = channel === 'sms' ? keywordOf(c.expected.body) : null;
          const optOuts = keyword === 'opt_out' && !before.optedOut ? 1 : keyword === 'opt_in' && before.optedOut ? -1 : 0;
          expect(rowDiff(before.rows, after)).toEqual({
            messages: 1,
            ...(before.conversationId === null ? { conversations: 1 } : {}),
            ...(optOuts ? { opt_outs: optOuts } : {}),
          });
          delivered.push({ providerId, id: answer.message.id as number });
          byProviderId.set(providerId, answer.message.id as number);
        }),
        propertyParams(validRuns, 400 + index),
      );
    }, TIMEOUT_MS);
  });

  {
    const path = WEBHOOK_STATUS_RULES.path;
    const validRuns = Math.ceil(PROPERTY_RUNS / 2);
    const malformedRuns = PROPERTY_RUNS - validRuns;

    it(`${path}: ${malformedRuns} malformed receipts get a 4xx problem (never a 5xx) and store nothing`, async () => {
      const valid = fc.record({ id: providerIdArb, fields: receiptFieldsArb }).map(({ id, fields }) => {
        const { provider, extra, ...rest } = fields;
        const body: Record<string, unknown> = { ...extra, provider_message_id: id, status: rest.status };
        for (const [k, v] of Object.entries(rest)) if (v !== undefined) body[k] = v;
        if (provider !== 'absent') body.provider = provider === 'null' ? null : 'mock-sms';
        return body;
      });
      await assertMalformedProperty(t, stats.of(path), malformedPostArb(WEBHOOK_STATUS_RULES, valid), [400, 413, 415, 422], propertyParams(malformedRuns, 500));
    }, TIMEOUT_MS);

    it(`${path}: ${validRuns} valid receipts move sent messages once, final ones never, and store nothing; unknown ids are 404`, async () => {
      // Outbound messages for the receipts to name, delivered by the worker (provider ids set).
      for (const c of fc.sample(fc.oneof(sendSmsCaseArb, sendEmailCaseArb), { numRuns: SENT_MESSAGES, seed: 7 })) {
        const res = await t.http.post(c.expected.type === 'email' ? '/api/messages/email' : '/api/messages/sms').send(c.body);
        expect([202, 422]).toContain(res.status); // 422: a pool pair that opted out in the inbound property
      }
      await waitForQueueIdle(t, 60_000);
      const targets: Array<{ id: string; provider: string; provider_message_id: string }> = await t.dataSource.query(
        `SELECT id, provider, provider_message_id FROM messages WHERE direction = 'outbound' AND provider_message_id IS NOT NULL ORDER BY id`,
      );
      expect(targets.length).toBeGreaterThan(SENT_MESSAGES / 2);
      expect(await t.count(`SELECT count(*) FROM messages WHERE status IN ('queued', 'sending')`)).toBe(0);

      const endpoint = stats.of(path);
      await fc.assert(
        fc.asyncProperty(receiptTargetArb, receiptFieldsArb, async (target, fields) => {
          const picked = target.target === 'unknown' ? undefined : targets[target.pick % targets.length];
          const providerMessageId = picked ? picked.provider_message_id : (target as { id: string }).id;
          const { provider, extra, ...rest } = fields;
          const body: Record<string, unknown> = { ...extra, provider_message_id: providerMessageId };
          for (const [k, v] of Object.entries(rest)) if (v !== undefined) body[k] = v;
          const otherProvider = picked?.provider === 'mock-sms' ? 'mock-email' : 'mock-sms';
          if (target.target === 'other provider') body.provider = otherProvider;
          else if (provider !== 'absent') body.provider = provider === 'null' ? null : (picked?.provider ?? 'mock-sms');
          const spec: RequestSpec = { method: 'POST', path, json: body, label: target.target };

          const [previous] = picked ? await t.dataSource.query('SELECT status, error, sent_at FROM messages WHERE id = $1', [picked.id]) : [undefined];
          const before = await countRows(t);
          const res = await perform(t, spec);
          endpoint.record(res.status);

          if (!picked || target.target === 'other provider') {
            const problem = checkAnswer(res, spec, [404]) as Record<string, unknown>;
            expect(problem.code).toBe('not_found');
            expect(rowDiff(before, await countRows(t))).toEqual({});
            return;
          }
          const answer = checkAnswer(res, spec, [200]) as { received: boolean; message: Record<string, unknown> };
          expect(answer.received).toBe(true);
          expect(answer.message.id).toBe(Number(picked.id));
          const moves = ['queued', 'sending', 'sent'].includes(previous.status);
          if (moves) {
            const error =
              rest.status === 'delivered'
                ? null
                : { code: rest.error_code || (rest.status === 'failed' ? 'delivery_failed' : 'undelivered'), message: rest.error_message || `The provider reported the message ${rest.status}` };
            expect({ status: answer.message.status, error: answer.message.error }).toEqual({ status: rest.status, error });
            expect(answer.message.sent_at).not.toBeNull();
          } else {
            expect({ status: answer.message.status, error: answer.message.error }).toEqual({ status: previous.status, error: previous.error });
          }
          expect(rowDiff(before, await countRows(t))).toEqual({});
        }),
        propertyParams(validRuns, 600),
      );
    }, TIMEOUT_MS);
  }

  it('every endpoint got PROPERTY_RUNS requests, none answered 5xx, none stored a stray row', () => {
    for (const endpoint of [WEBHOOK_SMS_RULES.path, WEBHOOK_EMAIL_RULES.path, WEBHOOK_STATUS_RULES.path]) {
      const s = stats.of(endpoint);
      expect({ endpoint, fiveXX: s.fiveXX, strayRows: s.strayRows }).toEqual({ endpoint, fiveXX: 0, strayRows: 0 });
      expect(s.requests).toBeGreaterThanOrEqual(PROPERTY_RUNS);
    }
  });
});
