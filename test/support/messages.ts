import { type TestApp, waitFor } from './test-app';

/** A valid body for POST /api/messages/sms. */
export function smsBody(body = 'hello', overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { from: '+12015550100', to: '+12015550123', type: 'sms', body, attachments: [], timestamp: '2024-11-01T14:00:00Z', ...overrides };
}

/** A valid body for POST /api/messages/email. */
export function emailBody(body = '<p>hello</p>', overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { from: 'team@example.com', to: 'ann@example.com', body, attachments: [], timestamp: '2024-11-01T14:00:00Z', ...overrides };
}

/** Sends an SMS through the client API (expects 202) and returns the new message's id. */
export async function sendSms(t: TestApp, body = 'hello', overrides: Record<string, unknown> = {}): Promise<number> {
  const res = await t.http.post('/api/messages/sms').send(smsBody(body, overrides)).expect(202);
  return res.body.id as number;
}

/** The idempotency key the service stored for a message (not part of the API). */
export async function idempotencyKeyOf(t: TestApp, id: number): Promise<string> {
  const rows: Array<{ idempotency_key: string }> = await t.dataSource.query('SELECT idempotency_key FROM messages WHERE id = $1', [id]);
  if (rows.length !== 1) throw new Error(`no message ${id}`);
  return rows[0].idempotency_key;
}

/** Delivery jobs ever created for a message (pending, done or archived). */
export async function deliveryJobsOf(t: TestApp, id: number): Promise<number> {
  return t.count(
    `SELECT count(*) FROM (
       SELECT id FROM pgboss.job WHERE name = 'message-delivery' AND data->>'messageId' = $1
       UNION ALL
       SELECT id FROM pgboss.archive WHERE name = 'message-delivery' AND data->>'messageId' = $1
     ) AS jobs`,
    [String(id)],
  );
}

/** Waits until no delivery job is waiting or running. */
export async function waitForQueueIdle(t: TestApp, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => (await t.count(`SELECT count(*) FROM pgboss.job WHERE name = 'message-delivery' AND state IN ('created', 'retry', 'active')`)) === 0,
    'the delivery queue to be idle',
    timeoutMs,
  );
}

/** Outbound messages by status, as stored. */
export async function countByStatus(t: TestApp): Promise<Record<string, number>> {
  const rows: Array<{ status: string; count: number }> = await t.dataSource.query(
    `SELECT status, count(*)::int AS count FROM messages WHERE direction = 'outbound' GROUP BY status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.count]));
}

/** Waits until all `total` outbound messages are `sent`; fails at once when one is `failed`. */
export async function waitAllSent(t: TestApp, total: number, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const counts = await countByStatus(t);
      if (counts.failed) {
        const failed: unknown[] = await t.dataSource.query(`SELECT id, attempts, error FROM messages WHERE status = 'failed' LIMIT 3`);
        throw new Error(`messages failed: ${JSON.stringify(counts)}, e.g. ${JSON.stringify(failed)}`);
      }
      return (counts.sent ?? 0) === total;
    },
    `all ${total} messages to be sent`,
    timeoutMs,
    200,
  );
}

/** t.reset() plus the provider gate's shared state (pauses, rate slots), so that none leaks from an earlier test. */
export async function resetWithGate(t: TestApp): Promise<void> {
  await t.reset();
  await t.dataSource.query('DELETE FROM provider_pauses');
  await t.dataSource.query('DELETE FROM provider_rate_limits');
}
