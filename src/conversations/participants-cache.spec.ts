import * as libphonenumber from 'libphonenumber-js/max';
import { normalizePhoneNumber } from './participants';

jest.mock('libphonenumber-js/max', () => {
  const actual = jest.requireActual<typeof libphonenumber>('libphonenumber-js/max');
  return { ...actual, parsePhoneNumberFromString: jest.fn(actual.parsePhoneNumberFromString) };
});

describe('normalizePhoneNumber cache', () => {
  const parse = libphonenumber.parsePhoneNumberFromString as jest.Mock;

  it('parses a number once per region and spelling, and answers repeats, refused ones too, from the cache', () => {
    expect(normalizePhoneNumber('+1 (804) 555-1234', 'US')).toBe('+18045551234');
    expect(normalizePhoneNumber('+1 (804) 555-1234', 'US')).toBe('+18045551234');
    expect(parse).toHaveBeenCalledTimes(1);
    expect(normalizePhoneNumber('+1 555', 'US')).toBeNull();
    expect(normalizePhoneNumber('+1 555', 'US')).toBeNull();
    expect(parse).toHaveBeenCalledTimes(2);
    // The region is part of the key: a national number means another number elsewhere.
    expect(normalizePhoneNumber('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(normalizePhoneNumber('020 7946 0958', 'US')).toBeNull();
    expect(parse).toHaveBeenCalledTimes(4);
  });
});
