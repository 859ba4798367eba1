import { MESSAGE_STATUSES, type MessageStatus } from './message.entity';

/** Statuses a provider's delivery receipt (POST /api/webhooks/status) can report. */
export const RECEIPT_STATUSES = ['delivered', 'undelivered', 'failed'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/**
 * Outbound statuses a receipt may move a message out of. `sent` is the usual one;
 * `queued` and `sending` cover a receipt that overtakes our own bookkeeping (the
 * receipt proves that the provider took the message). Every other status is final for
 * receipts: `delivered`, `undelivered` and `failed` never move back (a `failed` message
 * the service failed itself has no provider message id, so no receipt can name it),
 * and `received` is inbound.
 */
const RECEIPT_SOURCES: readonly MessageStatus[] = ['queued', 'sending', 'sent'];

/**
 * The delivery-receipt transition rule, as a table:
 *
 * | current \ receipt               | delivered | undelivered | failed      |
 * |---------------------------------|-----------|-------------|-------------|
 * | queued, sending, sent           | delivered | undelivered | failed      |
 * | delivered, undelivered, failed  | (none)    | (none)      | (none)      |
 * | received (inbound)              | (none)    | (none)      | (none)      |
 *
 * @returns the status the message moves to, or null when the receipt changes nothing
 *   (a repeated or late receipt for a message already in a final state)
 */
export function receiptTransition(current: MessageStatus, receipt: ReceiptStatus): MessageStatus | null {
  return RECEIPT_SOURCES.includes(current) ? receipt : null;
}

/**
 * @returns every status that `receipt` may move a message out of: the `status IN (...)`
 *   condition of the conditional UPDATE, derived from {@link receiptTransition}
 */
export function receiptSources(receipt: ReceiptStatus): MessageStatus[] {
  return MESSAGE_STATUSES.filter((status) => receiptTransition(status, receipt) !== null);
}
