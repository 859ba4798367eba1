import { pauseMsFor } from './provider-pauses';

const NOW = Date.parse('2015-10-21T07:28:00Z');
const HOUR = 3_600_000;

describe('pauseMsFor', () => {
  it('pauses the provider for the Retry-After of a 429 or a 503, in seconds or as an HTTP-date', () => {
    expect(pauseMsFor(429, '2', HOUR, NOW)).toBe(2_000);
    expect(pauseMsFor(503, '30', HOUR, NOW)).toBe(30_000);
    expect(pauseMsFor(429, 'Wed, 21 Oct 2015 07:28:05 GMT', HOUR, NOW)).toBe(5_000);
  });

  it('caps an absurd Retry-After at the longest deferral', () => {
    expect(pauseMsFor(429, '86400', 4_000, NOW)).toBe(4_000);
  });

  it.each([
    [429, undefined], // no Retry-After: the retry policy backs off per message
    [429, '0'],
    [429, 'Wed, 21 Oct 2015 07:27:00 GMT'], // a date in the past
    [429, 'soon'],
    [500, '2'], // only 429 and 503 speak for the whole provider
    [502, '2'],
    [408, '2'],
    [400, '2'],
  ])('does not pause on %p with Retry-After %p', (status, retryAfter) => {
    expect(pauseMsFor(status, retryAfter, HOUR, NOW)).toBeUndefined();
  });
});
