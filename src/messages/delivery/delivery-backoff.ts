/**
 * Wait before the next delivery round of a message whose round ended unavailable:
 * exponential per round with "equal jitter" (AWS Architecture Blog, "Exponential
 * Backoff and Jitter"): a random delay in [c/2, c], c = min(maxMs, baseMs x 2^(round-1)).
 * Unlike the full jitter of inline retries (backoffDelay, src/common/http/retry.ts), the
 * wait never drops towards 0, so that the rounds of a message spread over minutes
 * instead of being spent within seconds of an outage.
 * @param round rounds of the message that ended unavailable so far (1 after the first)
 * @param baseMs DELIVERY_BACKOFF_BASE_S in ms
 * @param maxMs DELIVERY_BACKOFF_MAX_S in ms
 * @returns the delay in ms
 */
export function roundBackoffMs(round: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, round - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Rounds a message has had so far, from its attempts: each full round makes
 * PROVIDER_INLINE_RETRIES + 1 requests (a round cut short counts as one).
 */
export function roundsSoFar(attempts: number, inlineRetries: number): number {
  return Math.max(1, Math.ceil(attempts / (inlineRetries + 1)));
}
