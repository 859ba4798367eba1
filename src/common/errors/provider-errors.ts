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
   */
  constructor(message: string, readonly attempts: number, readonly retryAfterMs?: number) {
    super(message);
  }
}
