import { countRows, type RowCounts } from './property-harness';
import type { ExpectedMessage } from './request-arbitraries';
import type { TestApp } from './test-app';

/**
 * Checks of the property-based e2e suite that read the database or compare a message
 * as the API shows it with what its request asked for.
 */

/** What a message request finds before it is sent: the row counts, its pair's conversation, and whether the pair opted out. */
export interface StateBefore {
  rows: RowCounts;
  /** The conversation of the two addresses, or null when there is none yet. */
  conversationId: number | null;
  /** The recipient opted out of SMS/MMS from the sender (always false for email). */
  optedOut: boolean;
}

/**
 * Reads StateBefore of a message from `from` to `to` (normalised) on `channel`; one
 * round trip for the counts, one for the pair.
 */
export async function stateBefore(t: TestApp, channel: 'sms' | 'email', from: string, to: string): Promise<StateBefore> {
  const [rows, [pair]] = await Promise.all([
    countRows(t),
    t.dataSource.query(
      `SELECT (SELECT id FROM conversations WHERE channel = $1 AND participants = $2::text[]) AS conversation_id,
              EXISTS (SELECT 1 FROM opt_outs WHERE channel = 'sms' AND $1 = 'sms' AND sender = $3 AND recipient = $4) AS opted_out`,
      [channel, [from, to].sort(), from, to],
    ) as Promise<Array<{ conversation_id: string | null; opted_out: boolean }>>,
  ]);
  return { rows, conversationId: pair.conversation_id === null ? null : Number(pair.conversation_id), optedOut: pair.opted_out };
}

/**
 * Asserts that `message` (as the API answered it) is what `expected` asked for: type,
 * normalised addresses, the body and attachments unchanged, the timestamp's instant
 * (or a time between the request and its answer when none was sent), and the fields
 * a new message has.
 * @param at when the request was sent and its answer received (ms), for a timestamp of "now"
 * @param providerMessageId the provider's id of an inbound message (outbound: null)
 */
export function expectStoredMessage(
  message: Record<string, unknown>,
  expected: ExpectedMessage,
  at: { direction: 'outbound' | 'inbound'; status: string; sentAt: number; receivedAt: number; providerMessageId?: string },
): void {
  expect(message).toMatchObject({
    type: expected.type,
    direction: at.direction,
    status: at.status,
    from: expected.from,
    to: expected.to,
    body: expected.body,
    attachments: expected.attachments,
    provider: expected.type === 'email' ? 'mock-email' : 'mock-sms',
    provider_message_id: at.providerMessageId ?? null,
    attempts: 0,
    error: null,
    sent_at: null,
  });
  expect(Number.isSafeInteger(message.id)).toBe(true);
  expect(Number.isSafeInteger(message.conversation_id)).toBe(true);
  if (expected.timestamp !== undefined) {
    expect(message.timestamp).toBe(new Date(expected.timestamp).toISOString());
  } else {
    const now = Date.parse(message.timestamp as string);
    expect(now).toBeGreaterThanOrEqual(at.sentAt - 1000);
    expect(now).toBeLessThanOrEqual(at.receivedAt + 1000);
  }
  if (expected.type === 'email') {
    expect({ segments: message.segments, encoding: message.encoding }).toEqual({ segments: null, encoding: null });
  } else {
    expect(Number.isInteger(message.segments) && (message.segments as number) >= 1).toBe(true);
    expect(['GSM-7', 'UCS-2']).toContain(message.encoding);
  }
}
