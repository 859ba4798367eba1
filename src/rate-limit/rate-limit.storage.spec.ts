import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { RateLimitStorage } from './rate-limit.storage';

describe('RateLimitStorage', () => {
  afterEach(() => jest.useRealTimers());

  const memory = () => new RateLimitStorage((points, duration) => new RateLimiterMemory({ points, duration }));

  /** The PostgreSQL storage on a stand-in for TypeORM's pg pool: one counter, each upsert answered as PostgreSQL would. */
  const onCountingPool = () => {
    let points = 0;
    const expire = Date.now() + 60_000;
    const query = jest.fn(async (q: { text: string; values: unknown[] }) => {
      points += q.values[1] as number;
      return { rows: [{ points, expire }], rowCount: 1 };
    });
    return { query, storage: RateLimitStorage.postgres({ driver: { master: { query } } } as unknown as DataSource) };
  };

  it('counts requests in a window, then blocks until the window ends', async () => {
    const storage = memory();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await storage.increment('key:a', 60_000, 3));
    expect(answers.map((a) => [a.totalHits, a.isBlocked])).toEqual([[1, false], [2, false], [3, false], [4, true]]);
    expect(answers[0].timeToExpire).toBe(60);
    expect(answers[0].timeToBlockExpire).toBe(0);
    expect(answers[3].timeToBlockExpire).toBeGreaterThanOrEqual(59);
    expect(answers[3].timeToBlockExpire).toBeLessThanOrEqual(60);
  });

  it('keeps keys apart and starts a new window once the old one ended', async () => {
    // Requests are counted in batches that setImmediate dispatches: it stays real.
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['setImmediate'] });
    const storage = memory();
    await storage.increment('key:a', 1_000, 1);
    expect((await storage.increment('key:a', 1_000, 1)).isBlocked).toBe(true);
    expect((await storage.increment('key:b', 1_000, 1)).isBlocked).toBe(false);
    jest.setSystemTime(1_001_001);
    expect(await storage.increment('key:a', 1_000, 1)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('answers at least 1 s for when to try again, never 0', async () => {
    // Requests are counted in batches that setImmediate dispatches: it stays real.
    jest.useFakeTimers({ now: 5_000_000, doNotFake: ['setImmediate'] });
    const storage = memory();
    await storage.increment('key:a', 1_000, 1);
    jest.setSystemTime(5_000_990);
    const blocked = await storage.increment('key:a', 1_000, 1);
    expect(blocked).toMatchObject({ isBlocked: true, timeToBlockExpire: 1, timeToExpire: 1 });
  });

  it('on PostgreSQL: counts in memory while the database cannot be reached', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const query = jest.fn().mockRejectedValue(refused);
    const unreachable = { driver: { master: { query } } } as unknown as DataSource;
    const storage = RateLimitStorage.postgres(unreachable);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await storage.increment('key:a', 60_000, 2));
    expect(query).toHaveBeenCalled();
    expect(answers.map((a) => [a.totalHits, a.isBlocked])).toEqual([[1, false], [2, false], [3, true]]);
  });

  it('on PostgreSQL: one upsert per request counted alone into client_rate_limits, none once a caller is blocked', async () => {
    const { query, storage } = onCountingPool();
    for (let i = 0; i < 5; i++) await storage.increment('key:a', 60_000, 2);
    expect(query).toHaveBeenCalledTimes(3); // the third is over the limit; the rest are refused from memory
    expect(query.mock.calls[0][0].text).toMatch(/INSERT INTO "?client_rate_limits"? VALUES \(\$1, \$2, \$3\)/);
    expect(query.mock.calls[0][0].values[0]).toBe('client:key:a');
  });

  it('counts requests that arrive together as one at a time would: distinct counts, the ones past the limit refused', async () => {
    const storage = memory();
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => storage.increment('key:a', 60_000, 6)),
      storage.increment('key:b', 60_000, 6),
    ]);
    const a = answers.slice(0, 10);
    expect(a.map((x) => x.totalHits).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const x of a) expect(x.isBlocked).toBe(x.totalHits > 6);
    expect(answers[10]).toMatchObject({ totalHits: 1, isBlocked: false });
    // Key a is now blocked for the rest of its window, together or not.
    const later = await Promise.all([storage.increment('key:a', 60_000, 6), storage.increment('key:a', 60_000, 6)]);
    expect(later.every((x) => x.isBlocked && x.totalHits >= 7)).toBe(true);
  });

  it('on PostgreSQL: one upsert for the requests of a caller that arrive together', async () => {
    const { query, storage } = onCountingPool();
    const answers = await Promise.all(Array.from({ length: 5 }, () => storage.increment('key:a', 60_000, 3)));
    expect(query).toHaveBeenCalledTimes(1);
    expect(query.mock.calls[0][0].values[1]).toBe(5);
    expect(answers.map((x) => [x.totalHits, x.isBlocked])).toEqual([[1, false], [2, false], [3, false], [4, true], [5, true]]);
    expect(answers[4].timeToBlockExpire).toBeGreaterThanOrEqual(59);
  });
});
