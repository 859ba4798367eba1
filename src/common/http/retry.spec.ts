import { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import fc from 'fast-check';
import { backoffDelay, isRetryableError, parseRetryAfter, RETRYABLE_STATUSES } from './retry';

const NOW = Date.parse('2015-10-21T07:28:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['2', 2000],
    [' 3 ', 3000],
    ['120', 120_000],
  ])('reads delay-seconds %p as %p ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it.each([
    ['Wed, 21 Oct 2015 07:28:05 GMT'], // IMF-fixdate
    ['Wednesday, 21-Oct-15 07:28:05 GMT'], // obsolete RFC 850
    ['Wed Oct 21 07:28:05 2015'], // obsolete asctime (GMT)
  ])('reads the HTTP-date %p as the time left until it', (value) => {
    expect(parseRetryAfter(value, NOW)).toBe(5000);
  });

  it('reads an HTTP-date in the past as 0 (retry now)', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT', NOW)).toBe(0);
  });

  it.each([
    [undefined],
    [null],
    [2],
    [['2']],
    [''],
    ['   '],
    ['soon'],
    ['-1'],
    ['1.5'],
    ['2.0'],
    ['1e3'],
    ['0x10'],
    ['12abc'],
    ['3 seconds'],
    ['1 2'],
    ['Wed, 32 Oct 2015 07:28:00 GMT'],
    ['2015-10-21T07:28:05Z'], // ISO 8601 is not an HTTP-date
  ])('ignores the unreadable value %p (undefined: fall back to backoff)', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it('property: any whole number of seconds is read exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (seconds) => {
        expect(parseRetryAfter(String(seconds), NOW)).toBe(seconds * 1000);
      }),
    );
  });

  it('property: an IMF-fixdate up to a day ahead is read to the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400 }), (seconds) => {
        expect(parseRetryAfter(new Date(NOW + seconds * 1000).toUTCString(), NOW)).toBe(seconds * 1000);
      }),
    );
  });
});

describe('backoffDelay', () => {
  it('grows exponentially from the base up to the cap (random at its top)', () => {
    const top = () => 1;
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, 100, 2000, top))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('is 0 when the random draw is 0 (full jitter)', () => {
    expect(backoffDelay(5, 100, 2000, () => 0)).toBe(0);
  });

  it('scales the ceiling by the random draw', () => {
    expect(backoffDelay(3, 100, 2000, () => 0.5)).toBe(200);
    expect(backoffDelay(3, 100, 2000, () => 0.25)).toBe(100);
  });

  it('treats attempt 0 or less like attempt 1, and never exceeds the cap for huge attempts', () => {
    expect(backoffDelay(0, 100, 2000, () => 1)).toBe(100);
    expect(backoffDelay(-3, 100, 2000, () => 1)).toBe(100);
    expect(backoffDelay(5000, 100, 2000, () => 1)).toBe(2000);
  });

  it('uses Math.random by default, within bounds', () => {
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, 100, 2000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(400);
    }
  });

  it('property: 0 <= delay <= min(max, base * 2^(attempt-1)), an integer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, max, draw) => {
          const d = backoffDelay(attempt, base, max, () => draw);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.min(max, base * 2 ** (attempt - 1)));
        },
      ),
    );
  });
});

describe('isRetryableError', () => {
  const config = { headers: new AxiosHeaders(), method: 'post', url: 'http://provider/sms' } as InternalAxiosRequestConfig;

  function httpError(status: number): AxiosError {
    const response = { status, statusText: '', headers: {}, config, data: {} } as AxiosResponse;
    return new AxiosError(`Request failed with status code ${status}`, AxiosError.ERR_BAD_RESPONSE, config, {}, response);
  }

  function networkError(code: string): AxiosError {
    return new AxiosError(`network: ${code}`, code, config, {});
  }

  it.each([408, 429, 500, 502, 503, 504])('retries HTTP %i', (status) => {
    expect(RETRYABLE_STATUSES.has(status)).toBe(true);
    expect(isRetryableError(httpError(status))).toBe(true);
  });

  it.each([400, 401, 403, 404, 409, 413, 422, 501, 505])('does not retry HTTP %i', (status) => {
    expect(isRetryableError(httpError(status))).toBe(false);
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN'])('retries the network error %s', (code) => {
    expect(isRetryableError(networkError(code))).toBe(true);
  });

  it('retries a POST (provider sends are made safe to repeat by their idempotency key)', () => {
    expect(isRetryableError(httpError(503))).toBe(true);
    expect(config.method).toBe('post');
  });

  it('does not retry a cancelled request or a certificate failure', () => {
    expect(isRetryableError(networkError(AxiosError.ERR_CANCELED))).toBe(false);
    expect(isRetryableError(networkError('CERT_HAS_EXPIRED'))).toBe(false);
  });
});
