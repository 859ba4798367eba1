import type { AxiosError, AxiosInstance } from 'axios';
import axiosRetry, { isNetworkError } from 'axios-retry';

/** How a provider's HTTP client retries one request. */
export interface RetryPolicy {
  /** Retries after the first attempt (a request may override it per call). */
  retries: number;
  /** Timeout of one attempt, ms (reset for every retry). */
  timeoutMs: number;
  /** Longest Retry-After honoured inline, ms; a longer one is not retried inline. */
  retryAfterMaxMs: number;
  /** Base of the exponential backoff, ms. */
  backoffBaseMs: number;
  /** Upper bound of one backoff delay, ms. */
  backoffMaxMs: number;
}

/** Statuses worth retrying: 408 Request Timeout, 429 Too Many Requests, 500, 502, 503, 504 (RFC 9110 §15). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/**
 * The start of an HTTP-date (RFC 9110 §5.6.7): all three forms (IMF-fixdate, RFC 850,
 * asctime) begin with a day name and carry an hh:mm:ss time. Checked before Date.parse,
 * which reads junk such as `-1` or `1.5` as dates in 2001.
 */
const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? .*\b\d{2}:\d{2}:\d{2}\b/i;

/**
 * Reads a Retry-After header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 * @param value the header value
 * @param now current time, ms since the epoch
 * @returns the delay in ms (0 for a date in the past), or undefined when absent or unreadable
 */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!HTTP_DATE.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"): a random delay in [0, min(max, base * 2^(attempt-1))].
 * @param attempt 1 for the first retry
 * @returns the delay in ms
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/**
 * Tells whether a failed provider request may be retried: network errors, timeouts
 * and RETRYABLE_STATUSES, whatever the method (provider sends are POSTs, made safe to
 * repeat by their idempotency key).
 */
export function isRetryableError(error: AxiosError): boolean {
  if (error.response) return RETRYABLE_STATUSES.has(error.response.status);
  if (error.code === 'ERR_CANCELED') return false;
  return error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || isNetworkError(error) || error.code === 'ECONNRESET';
}

/**
 * Installs the retry interceptor (axios-retry) and the per-attempt timeout on an axios
 * instance, normally HttpService.axiosRef of the providers. Retry-After is honoured up
 * to `retryAfterMaxMs`; a longer one ends the inline retries so that the caller can
 * defer the work instead of holding a worker.
 */
export function applyRetryPolicy(axios: AxiosInstance, policy: RetryPolicy): void {
  axios.defaults.timeout = policy.timeoutMs;
  axiosRetry(axios, {
    retries: policy.retries,
    shouldResetTimeout: true,
    retryCondition: (error) => {
      if (!isRetryableError(error)) return false;
      const retryAfter = parseRetryAfter(error.response?.headers?.['retry-after']);
      return retryAfter === undefined || retryAfter <= policy.retryAfterMaxMs;
    },
    retryDelay: (retryCount, error) =>
      parseRetryAfter(error.response?.headers?.['retry-after']) ??
      backoffDelay(retryCount, policy.backoffBaseMs, policy.backoffMaxMs),
  });
}
