import type { ThrottlerStorage } from '@nestjs/throttler';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, RLWrapperTimeouts, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { NaturalBatcher } from '../common/batching/natural-batcher';

/** What ThrottlerStorage.increment answers (the package does not export the type by name). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** How one request was counted: the limiter's answer for its key's batch, and the request's place in it. */
interface CountedRequest {
  res: RateLimiterRes;
  /** The limiter refused the batch (over the limit, or the key is blocked in memory). */
  refused: boolean;
  /** This request's count in the window (0 or less when refused from the in-memory block). */
  hits: number;
}

/**
 * Makes the limiter for one policy: `points` requests per window of `durationSeconds`.
 * Production uses RateLimiterPostgres (shared by all API processes); unit specs use
 * rate-limiter-flexible's RateLimiterMemory, which counts the same way.
 */
export type WindowLimiterFactory = (points: number, durationSeconds: number) => RateLimiterAbstract;

/**
 * Longest wait for the PostgreSQL counter of one batch of requests, ms; then they are counted
 * in memory (the insurance limiter). Keeps an unreachable or partitioned database from
 * adding its connect timeout to every client request before the request's own query.
 */
export const STORE_TIMEOUT_MS = 500;

/**
 * The @nestjs/throttler storage of the client rate limit, on rate-limiter-flexible:
 * fixed windows that open with a caller's first request and last `ttl`; the request
 * past `limit` in a window is refused, and so is every later one until the window
 * ends (throttler's `blockDuration` is not used: a caller is blocked for the rest of
 * its window, never longer). Requests that arrive together are counted together
 * (NaturalBatcher, as sends are stored): one `consume(key, n)` per key and batch, each
 * request getting its own count in the window from the total, so that a caller's
 * concurrent requests cost one upsert, not one each. The count and who is refused are
 * the same as one at a time: the requests up to the limit pass, the rest are refused.
 * Two batches are counted at a time: while the store hangs (up to STORE_TIMEOUT_MS each)
 * a request waits for at most one batch in front of its own.
 */
export class RateLimitStorage implements ThrottlerStorage {
  /** Per policy (`limit/ttl`): the batcher that counts its requests with its limiter. */
  private readonly counters = new Map<string, NaturalBatcher<string, CountedRequest>>();

  constructor(private readonly createLimiter: WindowLimiterFactory) {}

  /**
   * The storage on the service's PostgreSQL: counters live in `client_rate_limits`
   * (created by a migration, hence `tableCreated`), reached through the TypeORM pool,
   * one `INSERT ... ON CONFLICT DO UPDATE` per key and batch. A caller over its limit is then
   * also blocked in this process's memory until its window ends, so its further requests
   * cost no query. While PostgreSQL is unreachable the limiter counts in this process's
   * memory instead (rate-limiter-flexible's insurance limiter), so an outage neither
   * fails requests for the limiter's sake nor lifts the limit; a counter that takes longer
   * than STORE_TIMEOUT_MS (a partition, an overloaded database) is counted there as well
   * (RLWrapperTimeouts).
   */
  static postgres(dataSource: DataSource): RateLimitStorage {
    return new RateLimitStorage(
      (points, durationSeconds) =>
        new RLWrapperTimeouts({
          timeoutMs: STORE_TIMEOUT_MS,
          limiter: new RateLimiterPostgres({
            storeClient: dataSource,
            storeType: 'typeorm',
            tableName: 'client_rate_limits',
            tableCreated: true,
            keyPrefix: 'client',
            points,
            duration: durationSeconds,
            inMemoryBlockOnConsumed: points + 1,
            insuranceLimiter: new RateLimiterMemory({ keyPrefix: 'client', points, duration: durationSeconds }),
          }),
        }),
    );
  }

  /**
   * Counts one request of `key` (ThrottlerStorage).
   * @param ttl window length, ms
   * @param limit requests allowed per window
   * @returns the requests counted in the window, seconds until it ends, and whether
   *   this request is over the limit (then timeToBlockExpire is when to try again, s, at least 1)
   * @throws the store's error when neither PostgreSQL nor the insurance limiter answers
   */
  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const { res, refused, hits } = await this.counterFor(limit, ttl).submit(key);
    const blocked = refused && (hits < 1 || hits > limit);
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    return {
      // A request refused from the in-memory block reports 0 consumed points.
      totalHits: blocked ? Math.max(hits, limit + 1) : hits,
      timeToExpire: seconds,
      isBlocked: blocked,
      timeToBlockExpire: blocked ? seconds : 0,
    };
  }

  private counterFor(limit: number, ttlMs: number): NaturalBatcher<string, CountedRequest> {
    const policy = `${limit}/${ttlMs}`;
    let counter = this.counters.get(policy);
    if (!counter) {
      const limiter = this.createLimiter(limit, ttlMs / 1000);
      counter = new NaturalBatcher<string, CountedRequest>((keys) => countTogether(limiter, keys), { maxBatchSize: 1000, maxConcurrentBatches: 2 });
      this.counters.set(policy, counter);
    }
    return counter;
  }
}

/**
 * Counts a batch of requests: one `consume(key, n)` per distinct key (in parallel), the
 * i-th of a key's n requests getting count `total - n + i` (1-based), as if they had
 * been counted one after the other.
 * @returns one CountedRequest per key of `keys`, in order; the store's error for the
 *   requests of a key that neither PostgreSQL nor the insurance limiter could count
 */
async function countTogether(limiter: RateLimiterAbstract, keys: readonly string[]): Promise<(CountedRequest | Error)[]> {
  const byKey = new Map<string, number[]>();
  keys.forEach((key, index) => {
    const indexes = byKey.get(key);
    if (indexes) indexes.push(index);
    else byKey.set(key, [index]);
  });
  const counted: (CountedRequest | Error)[] = new Array(keys.length);
  await Promise.all(
    [...byKey].map(async ([key, indexes]) => {
      let res: RateLimiterRes;
      let refused = false;
      try {
        res = await limiter.consume(key, indexes.length);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) {
          for (const index of indexes) counted[index] = error instanceof Error ? error : new Error(String(error));
          return;
        }
        res = error;
        refused = true;
      }
      indexes.forEach((index, i) => (counted[index] = { res, refused, hits: res.consumedPoints - indexes.length + i + 1 }));
    }),
  );
  return counted;
}
