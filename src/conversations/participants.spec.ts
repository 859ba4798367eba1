import fc from 'fast-check';
import { type Examples, getCountries, getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { normalizeAddress, normalizeEmailAddress, normalizePhoneNumber } from './participants';

// The examples' export map gives TypeScript (node16 resolution, no resolveJsonModule) no
// declaration to find, so the JSON is loaded at run time and typed with the library's type.
const examples = require('libphonenumber-js/mobile/examples') as Examples;

describe('normalizePhoneNumber', () => {
  it.each([
    ['+1 (804) 555-1234'],
    ['18045551234'],
    ['+18045551234'],
    ['8045551234'],
    ['(804) 555-1234'],
    ['+1 804.555.1234'],
    ['+1/804/555/1234'],
    ['  +18045551234  '],
    ['001 804 555 1234'],
    ['0018045551234'],
  ])('reads %p as +18045551234 (US default region)', (raw) => {
    expect(normalizePhoneNumber(raw, 'US')).toBe('+18045551234');
  });

  it("accepts the original README's +11234567890 and +10987654321: possible, though not valid, numbers", () => {
    expect(parsePhoneNumberFromString('+11234567890')?.isValid()).toBe(false);
    expect(normalizePhoneNumber('+11234567890', 'US')).toBe('+11234567890');
    expect(normalizePhoneNumber('+10987654321', 'US')).toBe('+10987654321');
  });

  it('accepts NANP 555 numbers (invalid for libphonenumber, yet possible)', () => {
    expect(normalizePhoneNumber('(201) 555-0123', 'US')).toBe('+12015550123');
  });

  it('reads a leading 00 as + (international prefix)', () => {
    expect(normalizePhoneNumber('0044 20 7946 0958', 'US')).toBe('+442079460958');
    expect(normalizePhoneNumber('00 44 20 7946 0958', 'US')).toBe('+442079460958');
    expect(normalizePhoneNumber('001 201 555 0123', 'US')).toBe('+12015550123');
  });

  it('reads national numbers in the default region', () => {
    expect(normalizePhoneNumber('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(normalizePhoneNumber('+44 (0)20 7946 0958', 'US')).toBe('+442079460958');
  });

  it.each([
    ['12ab'],
    [''],
    ['   '],
    ['+'],
    ['1'],
    ['+1804555123'], // one digit short
    ['+180455512345'], // one digit long
    ['+1-804-555-1234 ext 5'],
    ['tel:+18045551234'],
    ['ann@example.com'],
    ['+1 804 555 1234\u0000'],
    ['+1 804 555 1234\n5'],
  ])('rejects %p', (raw) => {
    expect(normalizePhoneNumber(raw, 'US')).toBeNull();
  });

  it('is idempotent: a normalised number normalises to itself', () => {
    for (const raw of ['+1 (804) 555-1234', '0044 20 7946 0958', '+11234567890']) {
      const once = normalizePhoneNumber(raw, 'US')!;
      expect(normalizePhoneNumber(once, 'US')).toBe(once);
    }
  });

  /** E.164 example numbers of every region libphonenumber knows. */
  const exampleNumbers = getCountries()
    .map((country) => getExampleNumber(country, examples))
    .filter((n) => n !== undefined)
    .map((n) => ({ e164: n.number as string, countryCode: n.countryCallingCode as string }));

  const separator = fc.constantFrom('', '', ' ', '-', '.', '/');

  /**
   * Writes an E.164 number the ways people do: `+` or `00`, separators anywhere
   * after the prefix, the start of the national number optionally in parentheses.
   */
  const formatted = fc
    .record({
      number: fc.constantFrom(...exampleNumbers),
      prefix: fc.constantFrom('+', '00', '+ '),
      separators: fc.array(separator, { minLength: 20, maxLength: 20 }),
      parenthesised: fc.integer({ min: 0, max: 4 }),
      padding: fc.constantFrom('', ' ', '  '),
    })
    .map(({ number, prefix, separators, parenthesised, padding }) => {
      const national = number.e164.slice(1 + number.countryCode.length);
      const spaced = (digits: string, from: number) =>
        [...digits].map((d, i) => (i === 0 ? d : separators[(from + i) % separators.length] + d)).join('');
      const k = Math.min(parenthesised, national.length - 1);
      const head = k > 0 ? `(${national.slice(0, k)})${separators[0]}` : '';
      const text = `${prefix}${spaced(number.countryCode, 0)} ${head}${spaced(national.slice(k), 7)}`;
      return { e164: number.e164, text: `${padding}${text}${padding}` };
    });

  it('property: any E.164 number, formatted with spaces, dashes, dots, slashes or parentheses, normalises back to itself', () => {
    expect(exampleNumbers.length).toBeGreaterThan(200);
    fc.assert(
      fc.property(formatted, ({ e164, text }) => {
        expect(normalizePhoneNumber(text, 'US')).toBe(e164);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a NANP number written nationally, with or without the leading 1, normalises to +1 and ten digits', () => {
    const nanp = fc
      .tuple(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9_999_999 }))
      .map(([a, b, c]) => `${a}${String(b).padStart(2, '0')}${String(c).padStart(7, '0')}`);
    fc.assert(
      fc.property(nanp, fc.constantFrom('', '1', '1 ', '+1 ', '001'), (ten, lead) => {
        const text = `${lead}(${ten.slice(0, 3)}) ${ten.slice(3, 6)}-${ten.slice(6)}`;
        expect(normalizePhoneNumber(text, 'US')).toBe(`+1${ten}`);
      }),
    );
  });

  it('property: the result is always null or an E.164 string', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'+0123456789 ()-./ab') , maxLength: 25 }), (text) => {
        const out = normalizePhoneNumber(text, 'US');
        if (out !== null) expect(out).toMatch(/^\+[1-9]\d{1,14}$/);
      }),
    );
  });
});

describe('normalizeEmailAddress', () => {
  it.each([
    ['ann@example.com'],
    ['Ann@Example.COM'],
    ['ANN@EXAMPLE.COM'],
    ['Ann <ann@example.com>'],
    ['Ann Example <Ann@Example.com>'],
    ['"Ann, Jr." <ann@example.com>'],
    ['<ann@example.com>'],
    ['mailto:ann@example.com'],
    ['MAILTO:Ann@Example.com'],
    ['Ann <mailto:ann@example.com>'],
    ['  ann@example.com  '],
  ])('reads %p as ann@example.com', (raw) => {
    expect(normalizeEmailAddress(raw)).toBe('ann@example.com');
  });

  it.each([['ann'], [''], ['ann@'], ['@example.com'], ['ann@localhost'], ['+12015550123'], ['a <b@example.com> <c@example.com>'], ['mailto:']])(
    'rejects %p',
    (raw) => {
      expect(normalizeEmailAddress(raw)).toBeNull();
    },
  );

  it('property: display name, mailto: and letter case never change the key', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.constantFrom('Ann', 'Ann Example', '"Example, Ann"'), (address, name) => {
        const key = normalizeEmailAddress(address);
        expect(normalizeEmailAddress(address.toUpperCase())).toBe(key);
        expect(normalizeEmailAddress(`${name} <${address}>`)).toBe(key);
        expect(normalizeEmailAddress(`mailto:${address}`)).toBe(key);
        if (key !== null) expect(key).toBe(address.toLowerCase());
      }),
    );
  });
});

describe('normalizeAddress', () => {
  it('normalises by channel: phone numbers on sms, email addresses on email', () => {
    expect(normalizeAddress('sms', '+1 (804) 555-1234', 'US')).toBe('+18045551234');
    expect(normalizeAddress('sms', 'ann@example.com', 'US')).toBeNull();
    expect(normalizeAddress('email', 'Ann <ANN@example.com>', 'US')).toBe('ann@example.com');
    expect(normalizeAddress('email', '+18045551234', 'US')).toBeNull();
  });
});
