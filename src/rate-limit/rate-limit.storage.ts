import type { ThrottlerStorage } from '@nestjs/throttler';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, RLWrapperTimeouts, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';

/** What ThrottlerStorage.increment answers (the package does not export the type by name). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Makes the limiter for one policy: `points` requests per window of `durationSeconds`.
 * Production uses RateLimiterPostgres (shared by all API processes); unit specs use
 * rate-limiter-flexible's RateLimiterMemory, which counts the same way.
 */
export type WindowLimiterFactory = (points: number, durationSeconds: number) => RateLimiterAbstract;

/**
 * Longest wait for the PostgreSQL counter of one request, ms; then the request is counted
 * in memory (the insurance limiter). Keeps an unreachable or partitioned database from
 * adding its connect timeout to every client request before the request's own query.
 */
export const STORE_TIMEOUT_MS = 500;

/**
 * The @nestjs/throttler storage of the client rate limit, on rate-limiter-flexible:
 * fixed windows that open with a caller's first request and last `ttl`; the request
 * past `limit` in a window is refused, and so is every later one until the window
 * ends (throttler's `blockDuration` is not used: a caller is blocked for the rest of
 * its window, never longer).
 */
export class RateLimitStorage implements ThrottlerStorage {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly createLimiter: WindowLimiterFactory) {}

  /**
   * The storage on the service's PostgreSQL: counters live in `client_rate_limits`
   * (created by a migration, hence `tableCreated`), reached through the TypeORM pool,
   * one `INSERT ... ON CONFLICT DO UPDATE` per request. A caller over its limit is then
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
    let res: RateLimiterRes;
    let blocked = false;
    try {
      res = await this.limiterFor(limit, ttl).consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      res = error;
      blocked = true;
    }
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    return {
      // A request refused from the in-memory block reports 0 consumed points.
      totalHits: blocked ? Math.max(res.consumedPoints, limit + 1) : res.consumedPoints,
      timeToExpire: seconds,
      isBlocked: blocked,
      timeToBlockExpire: blocked ? seconds : 0,
    };
  }

  private limiterFor(limit: number, ttlMs: number): RateLimiterAbstract {
    const policy = `${limit}/${ttlMs}`;
    let limiter = this.limiters.get(policy);
    if (!limiter) {
      limiter = this.createLimiter(limit, ttlMs / 1000);
      this.limiters.set(policy, limiter);
    }
    return limiter;
  }
}
