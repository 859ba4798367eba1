/**
 * Errors a provider adapter throws from `send`. They never reach HTTP clients: the
 * delivery worker records them on the message.
 */

/** The provider refused the message permanently (a 4xx other than 408/429): do not retry. */
export class ProviderRejectedError extends Error {
  readonly code = 'provider_rejected';
  /**
   * @param message the provider's reason
   * @param attempts provider requests made, inline retries included
   * @param providerCode the provider's own error code, when it gave one
   */
  constructor(message: string, readonly attempts: number, readonly providerCode?: string) {
    super(message);
  }
}

/** The provider could not take the message now (network error, timeout, 408, 429, 5xx): retry later. */
export class ProviderUnavailableError extends Error {
  readonly code = 'provider_unavailable';
  /**
   * @param message what went wrong
   * @param attempts provider requests made, inline retries included
   * @param retryAfterMs the provider's Retry-After in ms, when it sent one
   * @param status the provider's HTTP status, when it answered (absent for network errors and timeouts)
   */
  constructor(message: string, readonly attempts: number, readonly retryAfterMs?: number, readonly status?: number) {
    super(message);
  }

  /** @returns true when the provider answered 429: it is up but asks for fewer requests */
  get rateLimited(): boolean {
    return this.status === 429;
  }
}

/** Why the provider gate (src/providers/provider-gate.ts) did not call the provider. */
export type DeferralCode = 'circuit_open' | 'provider_paused' | 'rate_limited';

/**
 * The service chose not to call the provider now: its circuit is open, it is paused
 * after a 429/503 with Retry-After, or no rate slot is free soon. Not a provider
 * failure: the message is deferred without counting an attempt for the call not made.
 */
export class ProviderDeferredError extends Error {
  /**
   * @param code why the call was not made
   * @param message what the gate saw (for the message's `error.message`)
   * @param retryAfterMs how long to wait before trying again, ms
   * @param attempts provider requests this `send` made before it was deferred (inline retries)
   * @param probeAttempts of `attempts`, those made as a circuit's failed test call (not counted towards DELIVERY_MAX_ATTEMPTS)
   */
  constructor(
    readonly code: DeferralCode,
    message: string,
    readonly retryAfterMs: number,
    readonly attempts = 0,
    readonly probeAttempts = 0,
  ) {
    super(message);
  }
}
