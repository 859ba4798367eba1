import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiKeySet } from './api-key-set';
import { ANONYMOUS_CALLER, apiKeyId, callerKeyId, setCallerKeyId } from './caller-key-id';

// Records the comparisons ApiKeySet makes (node:crypto's exports cannot be spied on).
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});

describe('ApiKeySet', () => {
  const keys = new ApiKeySet(['k1', 'a-much-longer-key-0123456789']);

  it('matches each configured key and names it by its id', () => {
    expect(keys.match('k1')).toBe(apiKeyId('k1'));
    expect(keys.match('a-much-longer-key-0123456789')).toBe(apiKeyId('a-much-longer-key-0123456789'));
  });

  it.each(['', 'k', 'k2', 'K1', 'k1 ', ' k1', 'k1k1', 'a-much-longer-key-012345678', 'x'.repeat(10_000)])('refuses %p', (presented) => {
    expect(keys.match(presented)).toBeNull();
  });

  it('compares fixed-length digests with timingSafeEqual, once per configured key whatever matches', () => {
    const compare = timingSafeEqual as jest.MockedFunction<typeof timingSafeEqual>;
    for (const presented of ['k1', 'nope', 'x'.repeat(1000)]) {
      compare.mockClear();
      keys.match(presented);
      expect(compare).toHaveBeenCalledTimes(2);
      for (const [a, b] of compare.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
    }
  });

  it('is open without keys', () => {
    expect(new ApiKeySet([]).open).toBe(true);
    expect(keys.open).toBe(false);
    expect(new ApiKeySet([]).match('anything')).toBeNull();
  });
});

describe('apiKeyId / callerKeyId', () => {
  it('is the first 16 hex digits of the SHA-256 of the key: stable, and not the key', () => {
    const id = apiKeyId('k1');
    expect(id).toBe(createHash('sha256').update('k1').digest('hex').slice(0, 16));
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(apiKeyId('k2')).not.toBe(id);
  });

  it('reads what the guard recorded on the request, `anonymous` otherwise', () => {
    const req = {};
    expect(callerKeyId(req)).toBe(ANONYMOUS_CALLER);
    setCallerKeyId(req, apiKeyId('k1'));
    expect(callerKeyId(req)).toBe(apiKeyId('k1'));
    expect(Object.keys(req)).toEqual([]); // a symbol: not serialised, not a header or body field
  });
});
