import type { MockProviderRequestLogEntry, MockProviderScriptStep } from '../../src/providers/mock/mock-provider.server';
import { type TestApp, waitFor } from './test-app';

/** Queues fault steps on the app's mock provider (POST /_script). */
export async function scriptProvider(t: TestApp, steps: MockProviderScriptStep[]): Promise<void> {
  const res = await fetch(`${t.mock.url}/_script`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps }),
  });
  if (res.status !== 204) throw new Error(`mock /_script answered ${res.status}`);
}

/** Every send request the app's mock provider saw, in arrival order. */
export async function providerRequests(t: TestApp): Promise<MockProviderRequestLogEntry[]> {
  return (await (await fetch(`${t.mock.url}/requests`)).json()) as MockProviderRequestLogEntry[];
}

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
