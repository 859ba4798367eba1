import { RateLimiterPostgres, RateLimiterQueue, RateLimiterQueueError, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { PACING_WAIT_MIN_MS, slotMs } from './provider-gate-waits';

/**
 * Makes the limiter of one provider: one point per window of `slotSeconds`.
 * Production uses RateLimiterPostgres (shared by all processes); unit specs use
 * rate-limiter-flexible's RateLimiterMemory, which counts the same way.
 */
export type SlotLimiterFactory = (provider: string, slotSeconds: number) => RateLimiterAbstract;

/** The outcome of ProviderPacer.take(). */
export type SlotOutcome = { taken: true } | { taken: false; retryAfterMs: number };

interface ProviderSlots {
  queue: RateLimiterQueue;
  slotMs: number;
  /** The time handed to the last request that gave up, ms since the epoch (see take()). */
  lastRetryAt: number;
}

/**
 * Paces the requests to each provider at its configured rate (PROVIDER_RATE_LIMIT_PER_S,
 * PROVIDER_RATE_LIMIT_PER_S_<NAME>) across all worker processes, with
 * rate-limiter-flexible.
 *
 * Rule: a rate of R requests/s gives one slot per slotMs(R) = (1 s + 100 ms)/R. The
 * limiter holds one point per slot, and a slot starts with the request that takes its
 * point (rate-limiter-flexible's fixed window opens at the first consume after the
 * previous one expired), so two requests to a provider are at least one slot apart and
 * no one-second window holds more than R of them, also across window edges and with up
 * to 100 ms of variation on the way to the provider (PACING_JITTER_ALLOWANCE_MS). Inside a process, waiting requests
 * queue first-in first-out (RateLimiterQueue), so only the head of the queue asks
 * PostgreSQL for the next slot. The slots' times come from each process's clock
 * (rate-limiter-flexible computes them in Node), so processes on different machines
 * need synchronised clocks.
 */
export class ProviderPacer {
  private readonly slots = new Map<string, ProviderSlots | null>();

  /**
   * @param rateOf the rate of a provider, requests/s (0: unlimited)
   * @param createLimiter builds the limiter of one provider
   */
  constructor(
    private readonly rateOf: (provider: string) => number,
    private readonly createLimiter: SlotLimiterFactory,
  ) {}

  /**
   * A pacer on the service's PostgreSQL: the slots live in the table
   * `provider_rate_limits` (created by a migration, hence `tableCreated`), reached
   * through the TypeORM connection pool (no connections of its own).
   */
  static postgres(dataSource: DataSource, rateOf: (provider: string) => number): ProviderPacer {
    return new ProviderPacer(
      rateOf,
      (_provider, slotSeconds) =>
        new RateLimiterPostgres({
          storeClient: dataSource,
          storeType: 'typeorm',
          tableName: 'provider_rate_limits',
          tableCreated: true,
          keyPrefix: 'pace',
          points: 1,
          duration: slotSeconds,
        }),
    );
  }

  /** @returns whether requests to `provider` are paced (its rate is above 0) */
  paces(provider: string): boolean {
    return this.slotsOf(provider) !== null;
  }

  /**
   * Takes the next rate slot of `provider`, waiting for it in this process's queue
   * until the first whole second at least PACING_WAIT_MIN_MS away (0.5 to 1.5 s), or
   * one slot longer.
   * @returns `taken` (at once for an unpaced provider), or when the caller should try
   *   again: the requests that give up are handed successive slots from one slot on,
   *   so that deferred deliveries come back spread at the provider's rate
   * @throws the store's error when PostgreSQL cannot be reached
   */
  async take(provider: string): Promise<SlotOutcome> {
    const slots = this.slotsOf(provider);
    if (!slots) return { taken: true };
    const deadlineUnixSeconds = Math.ceil((Date.now() + PACING_WAIT_MIN_MS) / 1000);
    try {
      await slots.queue.removeTokens(1, provider, deadlineUnixSeconds);
      return { taken: true };
    } catch (error) {
      if (!(error instanceof RateLimiterQueueError)) throw error;
      const now = Date.now();
      slots.lastRetryAt = Math.max(now, slots.lastRetryAt) + slots.slotMs;
      return { taken: false, retryAfterMs: Math.ceil(slots.lastRetryAt - now) };
    }
  }

  private slotsOf(provider: string): ProviderSlots | null {
    let slots = this.slots.get(provider);
    if (slots === undefined) {
      const rate = this.rateOf(provider);
      slots =
        rate > 0
          ? { queue: new RateLimiterQueue(this.createLimiter(provider, slotMs(rate) / 1000)), slotMs: slotMs(rate), lastRetryAt: 0 }
          : null;
      this.slots.set(provider, slots);
    }
    return slots;
  }
}
