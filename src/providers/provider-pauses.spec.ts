import type { DataSource } from 'typeorm';
import { pauseMsFor, ProviderPauses } from './provider-pauses';

const NOW = Date.parse('2015-10-21T07:28:00Z');
const HOUR = 3_600_000;

describe('pauseMsFor', () => {
  it('pauses the provider for the Retry-After of a 429 or a 503, in seconds or as an HTTP-date', () => {
    expect(pauseMsFor(429, '2', HOUR, NOW)).toBe(2_000);
    expect(pauseMsFor(503, '30', HOUR, NOW)).toBe(30_000);
    expect(pauseMsFor(429, 'Wed, 21 Oct 2015 07:28:05 GMT', HOUR, NOW)).toBe(5_000);
  });

  it('caps an absurd Retry-After at the longest deferral', () => {
    expect(pauseMsFor(429, '86400', 4_000, NOW)).toBe(4_000);
  });

  it.each([
    [429, undefined], // no Retry-After: the retry policy backs off per message
    [429, '0'],
    [429, 'Wed, 21 Oct 2015 07:27:00 GMT'], // a date in the past
    [429, 'soon'],
    [500, '2'], // only 429 and 503 speak for the whole provider
    [502, '2'],
    [408, '2'],
    [400, '2'],
  ])('does not pause on %p with Retry-After %p', (status, retryAfter) => {
    expect(pauseMsFor(status, retryAfter, HOUR, NOW)).toBeUndefined();
  });
});

describe('ProviderPauses.remaining', () => {
  /** A DataSource whose queries answer when the test says so. */
  function fakeDataSource() {
    const answers: Array<(rows: unknown[]) => void> = [];
    const fails: Array<(e: Error) => void> = [];
    const queries: unknown[][] = [];
    const dataSource = {
      query: (_sql: string, params: unknown[]) =>
        new Promise((resolve, reject) => {
          queries.push(params);
          answers.push(resolve);
          fails.push(reject);
        }),
    };
    return { pauses: new ProviderPauses(dataSource as unknown as DataSource), queries, answers, fails };
  }

  it('shares a read under way with the calls made meanwhile, per provider, and reads again once it ended', async () => {
    const { pauses, queries, answers } = fakeDataSource();
    const first = pauses.remaining('mock-sms');
    const meanwhile = pauses.remaining('mock-sms');
    const other = pauses.remaining('mock-email');
    expect(queries).toEqual([['mock-sms'], ['mock-email']]);
    answers[0]([{ remaining_ms: 1500, reason: '429 with Retry-After: 2' }]);
    answers[1]([]);
    await expect(first).resolves.toEqual({ remainingMs: 1500, reason: '429 with Retry-After: 2' });
    await expect(meanwhile).resolves.toEqual({ remainingMs: 1500, reason: '429 with Retry-After: 2' });
    await expect(other).resolves.toEqual({ remainingMs: 0, reason: '' });

    const after = pauses.remaining('mock-sms');
    expect(queries).toHaveLength(3);
    answers[2]([{ remaining_ms: 0, reason: '429 with Retry-After: 2' }]);
    await expect(after).resolves.toEqual({ remainingMs: 0, reason: '' });
  });

  it('gives a failed read to every call that shared it, and reads again on the next call', async () => {
    const { pauses, queries, answers, fails } = fakeDataSource();
    const calls = [pauses.remaining('mock-sms'), pauses.remaining('mock-sms')];
    fails[0](new Error('connection refused'));
    for (const call of calls) await expect(call).rejects.toThrow('connection refused');
    const again = pauses.remaining('mock-sms');
    expect(queries).toHaveLength(2);
    answers[1]([]);
    await expect(again).resolves.toEqual({ remainingMs: 0, reason: '' });
  });
});
