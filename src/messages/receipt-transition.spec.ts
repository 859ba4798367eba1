import { MESSAGE_STATUSES, type MessageStatus } from './message.entity';
import { RECEIPT_STATUSES, receiptSources, receiptTransition, type ReceiptStatus } from './receipt-transition';

describe('receiptTransition', () => {
  // Every (current, receipt) pair and what it leads to; null: the receipt changes nothing.
  const table: Record<MessageStatus, Record<ReceiptStatus, MessageStatus | null>> = {
    queued: { delivered: 'delivered', undelivered: 'undelivered', failed: 'failed' },
    sending: { delivered: 'delivered', undelivered: 'undelivered', failed: 'failed' },
    sent: { delivered: 'delivered', undelivered: 'undelivered', failed: 'failed' },
    delivered: { delivered: null, undelivered: null, failed: null },
    undelivered: { delivered: null, undelivered: null, failed: null },
    failed: { delivered: null, undelivered: null, failed: null },
    received: { delivered: null, undelivered: null, failed: null },
  };

  it('covers every status the service knows', () => {
    expect(Object.keys(table).sort()).toEqual([...MESSAGE_STATUSES].sort());
  });

  for (const current of MESSAGE_STATUSES) {
    for (const receipt of RECEIPT_STATUSES) {
      it(`${current} + ${receipt} -> ${table[current][receipt] ?? 'unchanged'}`, () => {
        expect(receiptTransition(current, receipt)).toBe(table[current][receipt]);
      });
    }
  }

  it('never moves a message out of a final state, so applying receipts in any order ends in the first final one', () => {
    for (const first of RECEIPT_STATUSES) {
      for (const second of RECEIPT_STATUSES) {
        const afterFirst = receiptTransition('sent', first) ?? 'sent';
        const afterSecond = receiptTransition(afterFirst, second) ?? afterFirst;
        expect(afterSecond).toBe(first);
      }
    }
  });

  it('is idempotent: the same receipt twice is the same as once', () => {
    for (const start of MESSAGE_STATUSES) {
      for (const receipt of RECEIPT_STATUSES) {
        const once = receiptTransition(start, receipt) ?? start;
        const twice = receiptTransition(once, receipt) ?? once;
        expect(twice).toBe(once);
      }
    }
  });
});

describe('receiptSources', () => {
  it('lists the statuses a receipt may move out of, for the conditional UPDATE', () => {
    for (const receipt of RECEIPT_STATUSES) {
      expect(receiptSources(receipt)).toEqual(['queued', 'sending', 'sent']);
    }
  });
});
