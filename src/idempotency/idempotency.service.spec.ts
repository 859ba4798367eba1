import { advisoryLockKey } from './idempotency.service';

describe('advisoryLockKey', () => {
  it('is a signed 64-bit integer in decimal, the same for the same scope and key', () => {
    const key = advisoryLockKey({ scope: 'anonymous', key: 'k1' });
    expect(key).toMatch(/^-?\d+$/);
    expect(BigInt(key) >= -(2n ** 63n) && BigInt(key) < 2n ** 63n).toBe(true);
    expect(advisoryLockKey({ scope: 'anonymous', key: 'k1' })).toBe(key);
  });

  it('differs between keys and between scopes, also where plain concatenation would agree', () => {
    const keys = new Set([
      advisoryLockKey({ scope: 'anonymous', key: 'k1' }),
      advisoryLockKey({ scope: 'anonymous', key: 'k2' }),
      advisoryLockKey({ scope: '0123456789abcdef', key: 'k1' }),
      advisoryLockKey({ scope: 'anonymousk', key: '1' }),
    ]);
    expect(keys.size).toBe(4);
  });
});
