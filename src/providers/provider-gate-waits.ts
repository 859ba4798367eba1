/**
 * How long the provider gate (provider-gate.ts) may hold one provider request before
 * it defers the delivery to a later job instead. The delivery job budget
 * (DELIVERY_JOB_EXPIRE_S in src/config/app.config.ts) counts these waits, so they are
 * constants here rather than settings of the gate.
 */

/** Longest wait, ms, for a provider pause (429/503 with Retry-After) to end inline; a longer pause defers the job. */
export const PAUSE_WAIT_INLINE_MAX_MS = 1_000;

/**
 * A request queued for a rate slot gives up at the first whole second at least this
 * many ms away (rate-limiter-flexible's RateLimiterQueue takes its deadline in Unix
 * seconds), so it waits 0.5 to 1.5 s for a slot, and up to one slot longer.
 */
export const PACING_WAIT_MIN_MS = 500;

/**
 * Allowance for the time between a request taking its rate slot and reaching the
 * provider, ms: it varies with the pause check after the slot (a database round trip),
 * connection pool waits, garbage-collection pauses and the network; measured up to
 * 50 ms in the e2e tests, where provider and service share one process. Slots are
 * this much longer than 1/rate s in total per second, so that no one-second window at
 * the provider holds more than `rate` requests while that time varies by up to this much.
 * The price: a provider is paced at rate / 1.1 at most.
 */
export const PACING_JITTER_ALLOWANCE_MS = 100;

/**
 * Length of one rate slot: (1 s + PACING_JITTER_ALLOWANCE_MS) / rate.
 * @param ratePerS requests per second (> 0)
 * @returns milliseconds
 */
export function slotMs(ratePerS: number): number {
  return (1_000 + PACING_JITTER_ALLOWANCE_MS) / ratePerS;
}

/**
 * The longest the gate can hold one provider request: the pause wait plus, when a
 * provider is paced, the slot queue's deadline plus one slot of the slowest rate.
 * @param slowestRatePerS the lowest positive rate of any provider (requests/s), 0 when none is paced
 * @returns milliseconds
 */
export function gateWaitPerRequestMs(slowestRatePerS: number): number {
  const pacing = slowestRatePerS > 0 ? PACING_WAIT_MIN_MS + 1_000 + Math.ceil(slotMs(slowestRatePerS)) : 0;
  return PAUSE_WAIT_INLINE_MAX_MS + pacing;
}
