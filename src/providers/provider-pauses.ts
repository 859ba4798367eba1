import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { parseRetryAfter } from '../common/http/retry';

/**
 * Answers whose Retry-After speaks for the whole provider, not for one request:
 * 429 Too Many Requests (RFC 6585 §4) and 503 Service Unavailable (RFC 9110 §15.6.4).
 */
export const PAUSING_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** A provider's pause as the database holds it. */
export interface ProviderPause {
  /** Time left until the pause ends, ms (database clock); 0 when the provider is not paused. */
  remainingMs: number;
  /** What started the pause, e.g. `429 with Retry-After: 2`; empty when not paused. */
  reason: string;
}

/**
 * How long one provider answer pauses the whole provider: its Retry-After (seconds or
 * an HTTP-date, RFC 9110 §10.2.3) on a PAUSING_STATUSES answer, capped.
 * @param status the answer's HTTP status
 * @param retryAfter the answer's Retry-After header value
 * @param maxMs the longest pause, ms (DELIVERY_DEFER_MAX_S: an absurd Retry-After must not park a provider for a day)
 * @param now current time, ms since the epoch (for HTTP-dates)
 * @returns the pause in ms (> 0), or undefined when the answer does not pause the provider
 */
export function pauseMsFor(status: number, retryAfter: unknown, maxMs: number, now = Date.now()): number | undefined {
  if (!PAUSING_STATUSES.has(status)) return undefined;
  const ms = parseRetryAfter(retryAfter, now);
  return ms === undefined || ms <= 0 ? undefined : Math.min(ms, maxMs);
}

/**
 * Provider-wide pauses in the `provider_pauses` table, shared by every worker process:
 * when a provider answers 429 with Retry-After, no process calls it until the pause
 * ends. Times use the database clock, the one clock all processes share.
 */
@Injectable()
export class ProviderPauses {
  /** The read of each provider's pause under way (remaining()), shared by whoever asks meanwhile. */
  private readonly reading = new Map<string, Promise<ProviderPause>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Pauses `provider` for `ms` from now; a longer pause already recorded is kept, never shortened.
   * @param ms length of the pause, ms
   * @param reason what the provider answered, kept for operators
   */
  async pause(provider: string, ms: number, reason: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO provider_pauses (provider, paused_until, reason, updated_at)
       VALUES ($1, clock_timestamp() + $2 * interval '1 millisecond', $3, now())
       ON CONFLICT (provider) DO UPDATE SET
         paused_until = GREATEST(provider_pauses.paused_until, EXCLUDED.paused_until),
         reason = CASE WHEN EXCLUDED.paused_until > provider_pauses.paused_until THEN EXCLUDED.reason ELSE provider_pauses.reason END,
         updated_at = now()`,
      [provider, Math.ceil(ms), reason],
    );
  }

  /**
   * @returns the time left of `provider`'s pause (0 ms when it is not paused), as read
   *   from the table by a query that ended after the call. Calls made while a read of the
   *   same provider's pause is under way share that read (one query for all the requests
   *   a busy worker admits at once) instead of starting their own: it began at most one
   *   query's time before they asked and ends after, so what it sees is as current as a
   *   query of their own (which could just as well have run a moment earlier). Nothing
   *   is kept once it has ended: the next call reads again.
   * @throws the read's error (every caller that shared it)
   */
  remaining(provider: string): Promise<ProviderPause> {
    let read = this.reading.get(provider);
    if (!read) {
      read = this.read(provider).finally(() => this.reading.delete(provider));
      this.reading.set(provider, read);
    }
    return read;
  }

  private async read(provider: string): Promise<ProviderPause> {
    const rows: Array<{ remaining_ms: number; reason: string }> = await this.dataSource.query(
      `SELECT GREATEST(0, CEIL(EXTRACT(EPOCH FROM (paused_until - clock_timestamp())) * 1000))::int AS remaining_ms, reason
       FROM provider_pauses WHERE provider = $1`,
      [provider],
    );
    const remainingMs = rows[0]?.remaining_ms ?? 0;
    return { remainingMs, reason: remainingMs > 0 ? rows[0].reason : '' };
  }
}
