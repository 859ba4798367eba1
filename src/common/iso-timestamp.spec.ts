import fc from 'fast-check';
import { isoTimestamp } from './iso-timestamp';

describe('isoTimestamp', () => {
  it('writes what toISOString writes, for any instant a Date can hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(isoTimestamp(new Date(ms))).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('writes what toISOString writes for every day from 1970 to 2400, at its first and last millisecond', () => {
    const mismatches: string[] = [];
    for (let ms = 0; ms < Date.UTC(2400, 0, 1); ms += 86_400_000) {
      for (const instant of [ms, ms + 86_399_999]) {
        const expected = new Date(instant).toISOString();
        if (isoTimestamp(new Date(instant)) !== expected) mismatches.push(expected);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it.each(['1970-01-01T00:00:00.000Z', '2000-02-29T12:00:00.001Z', '2100-02-28T23:59:59.999Z', '2100-03-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '-000001-01-01T00:00:00.000Z'])(
    'keeps %s',
    (text) => {
      expect(isoTimestamp(new Date(text))).toBe(text);
    },
  );

  it('throws RangeError for an invalid Date, as toISOString does', () => {
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
