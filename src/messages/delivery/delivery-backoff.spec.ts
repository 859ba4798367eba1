import { roundBackoffMs, roundsSoFar } from './delivery-backoff';

describe('roundBackoffMs', () => {
  it('doubles per round between half and all of the ceiling, capped at the maximum', () => {
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4].map((r) => [roundBackoffMs(r, 30_000, 900_000, low), roundBackoffMs(r, 30_000, 900_000, high)])).toEqual([
      [15_000, 30_000],
      [30_000, 60_000],
      [60_000, 120_000],
      [120_000, 240_000],
    ]);
    expect(roundBackoffMs(10, 30_000, 900_000, high)).toBe(900_000);
    expect(roundBackoffMs(10, 30_000, 900_000, low)).toBe(450_000);
  });

  it('is 0 with a base of 0', () => expect(roundBackoffMs(3, 0, 900_000)).toBe(0));
});

describe('roundsSoFar', () => {
  it('counts full rounds of inline retries + 1 requests, a partial round as one', () => {
    expect([0, 1, 3, 4, 6, 8].map((a) => roundsSoFar(a, 2))).toEqual([1, 1, 1, 2, 2, 3]);
    expect(roundsSoFar(5, 0)).toBe(5);
  });
});
