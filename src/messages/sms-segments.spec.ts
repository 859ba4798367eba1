import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import {
  GSM7_BASIC_CHARACTERS,
  GSM7_CONCATENATED_SEGMENT_SEPTETS,
  GSM7_EXTENSION_CHARACTERS,
  GSM7_SINGLE_SEGMENT_SEPTETS,
  gsm7Septets,
  smsSegments,
  UCS2_CONCATENATED_SEGMENT_UNITS,
  UCS2_SINGLE_SEGMENT_UNITS,
} from './sms-segments';

const x = (n: number) => 'x'.repeat(n);
/** A character outside GSM-7 that is one UTF-16 unit (Cyrillic Zhe). */
const ZHE = 'Ж';
const zhe = (n: number) => ZHE.repeat(n);
/** A character outside the BMP: two UTF-16 units (a surrogate pair). */
const EMOJI = '😀';

describe('the GSM-7 tables', () => {
  it('hold the 127 characters of the default alphabet (0x1B, the escape, is none) and the 10 of the extension table', () => {
    expect([...GSM7_BASIC_CHARACTERS]).toHaveLength(127);
    expect(new Set(GSM7_BASIC_CHARACTERS).size).toBe(127);
    expect([...GSM7_EXTENSION_CHARACTERS].sort()).toEqual(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€'].sort());
    for (const char of GSM7_EXTENSION_CHARACTERS) expect(GSM7_BASIC_CHARACTERS).not.toContain(char);
  });

  it('use the Greek capitals of TS 23.038 (not look-alikes such as the ohm sign)', () => {
    const greek = [0x0394, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0, 0x03a8, 0x03a3, 0x0398, 0x039e].map((c) => String.fromCodePoint(c));
    for (const char of greek) expect(gsm7Septets(char)).toBe(1);
    expect(gsm7Septets('\u2126')).toBeUndefined(); // OHM SIGN
    expect(gsm7Septets('\u00b5')).toBeUndefined(); // MICRO SIGN
  });

  it('count 1 septet for a basic character, 2 for an extension character, none for others', () => {
    expect(gsm7Septets('@')).toBe(1);
    expect(gsm7Septets('Ç')).toBe(1);
    expect(gsm7Septets('\n')).toBe(1);
    expect(gsm7Septets('\r')).toBe(1);
    expect(gsm7Septets('€')).toBe(2);
    expect(gsm7Septets('\f')).toBe(2);
    for (const other of ['ç', '`', '\u001b', '\t', 'ê', '’', '“', ZHE, EMOJI, '\u0000']) expect(gsm7Septets(other)).toBeUndefined();
  });

  it('agree with Twilio’s segment calculator on every character of the BMP', () => {
    // The calculator's table is Twilio's own; a character is GSM-7 there exactly when it is here.
    const disagreements: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCharCode(code);
      if (char === '\r' || char === '\n') continue; // checked above; the calculator splits CRLF itself
      const theirs = new SegmentedMessage(char).encodingName;
      const ours = smsSegments(char).encoding;
      if (theirs !== ours) disagreements.push(code.toString(16));
    }
    expect(disagreements).toEqual([]);
  });
});

describe('smsSegments', () => {
  it('takes an empty body as one GSM-7 segment of 0 septets (an SMS is at least one PDU)', () => {
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', segments: 1, units: 0 });
  });

  it('keeps every default-alphabet character in GSM-7', () => {
    expect(smsSegments(GSM7_BASIC_CHARACTERS)).toEqual({ encoding: 'GSM-7', segments: 1, units: 127 });
    expect(smsSegments('Hello! This is a test SMS message.')).toEqual({ encoding: 'GSM-7', segments: 1, units: 34 });
    expect(smsSegments('a\r\nb')).toEqual({ encoding: 'GSM-7', segments: 1, units: 4 });
  });

  it('counts an extension character as 2 septets', () => {
    expect(smsSegments(GSM7_EXTENSION_CHARACTERS)).toEqual({ encoding: 'GSM-7', segments: 1, units: 20 });
    expect(smsSegments('Price: 5€')).toEqual({ encoding: 'GSM-7', segments: 1, units: 10 });
  });

  describe('GSM-7 boundaries', () => {
    it.each([
      [1, 1],
      [160, 1],
      [161, 2],
      [153 * 2, 2],
      [153 * 2 + 1, 3],
      [153 * 3, 3],
      [153 * 3 + 1, 4],
      [1530, 10],
      [1531, 11],
      [1600, 11],
    ])('%i septets take %i segments', (n, segments) => {
      expect(smsSegments(x(n))).toEqual({ encoding: 'GSM-7', segments, units: n });
    });

    it('fits 80 extension characters (160 septets) in one segment, not 81', () => {
      expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
      expect(smsSegments('€'.repeat(81))).toEqual({ encoding: 'GSM-7', segments: 2, units: 162 });
      expect(smsSegments(x(159) + '€')).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
    });

    it('never splits an extension character: one that would straddle a segment boundary starts the next segment', () => {
      // 152 + [2] + 152 = 306 septets = 2 x 153, but '€' does not fit in the 1 septet left:
      // [152 x] [€ + 151 x] [1 x]
      expect(smsSegments(x(152) + '€' + x(152))).toEqual({ encoding: 'GSM-7', segments: 3, units: 306 });
      // One x earlier it ends the first segment exactly: [151 x + €] [153 x]
      expect(smsSegments(x(151) + '€' + x(153))).toEqual({ encoding: 'GSM-7', segments: 2, units: 306 });
      // At the second boundary too: [153 x] [152 x] [{ ...]
      expect(smsSegments(x(153 + 152) + '{')).toEqual({ encoding: 'GSM-7', segments: 3, units: 307 });
      expect(smsSegments(x(153 + 151) + '{')).toEqual({ encoding: 'GSM-7', segments: 2, units: 306 });
    });

    it('packs 76 extension characters per concatenated segment (152 of 153 septets)', () => {
      expect(smsSegments('|'.repeat(76 * 2))).toEqual({ encoding: 'GSM-7', segments: 2, units: 304 });
      expect(smsSegments('|'.repeat(76 * 2 + 1))).toEqual({ encoding: 'GSM-7', segments: 3, units: 306 });
    });
  });

  describe('UCS-2', () => {
    it('switches the whole body to UCS-2 for one character outside GSM-7 + extension', () => {
      expect(smsSegments(x(100) + 'ç')).toEqual({ encoding: 'UCS-2', segments: 2, units: 101 });
      expect(smsSegments('Backtick `')).toEqual({ encoding: 'UCS-2', segments: 1, units: 10 });
      // Extension characters are one UTF-16 unit each in UCS-2, not two.
      expect(smsSegments('€'.repeat(69) + ZHE)).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    });

    it.each([
      [1, 1],
      [70, 1],
      [71, 2],
      [67 * 2, 2],
      [67 * 2 + 1, 3],
      [67 * 3, 3],
      [67 * 3 + 1, 4],
      [1600, 24],
    ])('%i UTF-16 units take %i segments', (n, segments) => {
      expect(smsSegments(zhe(n))).toEqual({ encoding: 'UCS-2', segments, units: n });
    });

    it('counts an emoji as 2 UTF-16 units', () => {
      expect(smsSegments(EMOJI)).toEqual({ encoding: 'UCS-2', segments: 1, units: 2 });
      expect(smsSegments(x(68) + EMOJI)).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
      expect(smsSegments(x(69) + EMOJI)).toEqual({ encoding: 'UCS-2', segments: 2, units: 71 });
      expect(smsSegments(EMOJI.repeat(35))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    });

    it('never splits a surrogate pair: one that would straddle a segment boundary starts the next segment', () => {
      // [66 Ж] [😀 + 65 Ж] [1 Ж]: 134 units = 2 x 67, but three segments
      expect(smsSegments(zhe(66) + EMOJI + zhe(66))).toEqual({ encoding: 'UCS-2', segments: 3, units: 134 });
      // [65 Ж + 😀] [67 Ж]
      expect(smsSegments(zhe(65) + EMOJI + zhe(67))).toEqual({ encoding: 'UCS-2', segments: 2, units: 134 });
      // 33 emoji per concatenated segment (66 of 67 units)
      expect(smsSegments(EMOJI.repeat(66))).toEqual({ encoding: 'UCS-2', segments: 2, units: 132 });
      expect(smsSegments(EMOJI.repeat(67))).toEqual({ encoding: 'UCS-2', segments: 3, units: 134 });
    });

    it('takes a ZWJ emoji sequence as its code points (it may be split between segments, the phone joins them)', () => {
      const family = '👨‍👩‍👧‍👦'; // 4 emoji + 3 ZWJ = 11 units
      expect(smsSegments(family)).toEqual({ encoding: 'UCS-2', segments: 1, units: 11 });
      // [66 Ж] [👨 ZWJ 👩 ZWJ 👧 ZWJ 👦]: the man does not fit in the one unit left
      expect(smsSegments(zhe(66) + family)).toEqual({ encoding: 'UCS-2', segments: 2, units: 77 });
      // [60 Ж 👨 ZWJ 👩 ZWJ] [👧 ZWJ 👦]
      expect(smsSegments(zhe(60) + family)).toEqual({ encoding: 'UCS-2', segments: 2, units: 71 });
    });

    it('counts a lone surrogate (not valid text, but a possible JavaScript string) as one unit', () => {
      expect(smsSegments('\ud83d')).toEqual({ encoding: 'UCS-2', segments: 1, units: 1 });
      expect(smsSegments(zhe(66) + '\ud83d' + zhe(67))).toEqual({ encoding: 'UCS-2', segments: 2, units: 134 });
    });

    it('counts mixed GSM and non-GSM text in UTF-16 units', () => {
      const body = 'Grüße aus Köln ☕ – bis später!'; // '☕' and '–' are not GSM-7
      expect(smsSegments(body)).toEqual({ encoding: 'UCS-2', segments: 1, units: body.length });
      expect(smsSegments(x(159) + 'ç')).toEqual({ encoding: 'UCS-2', segments: 3, units: 160 });
    });
  });

  it('agrees with Twilio’s segment calculator at every boundary above', () => {
    const bodies = [
      '',
      x(160),
      x(161),
      x(306),
      x(307),
      x(152) + '€' + x(152),
      x(151) + '€' + x(153),
      '€'.repeat(81),
      zhe(70),
      zhe(71),
      zhe(134),
      zhe(135),
      zhe(66) + EMOJI + zhe(66),
      zhe(65) + EMOJI + zhe(67),
      EMOJI.repeat(67),
      x(69) + EMOJI,
      x(159) + 'ç',
    ];
    for (const body of bodies) {
      const twilio = new SegmentedMessage(body);
      expect([body, smsSegments(body).encoding, smsSegments(body).segments]).toEqual([body, twilio.encodingName, twilio.segmentsCount]);
    }
  });
});

describe('smsSegments properties', () => {
  const basic = fc.constantFrom(...GSM7_BASIC_CHARACTERS);
  const extension = fc.constantFrom(...GSM7_EXTENSION_CHARACTERS);
  /** Characters outside GSM-7, each a grapheme of its own: BMP (1 unit) and astral (2 units). */
  const nonGsm = fc.constantFrom('ç', ZHE, '中', '’', '`', 'ê', '😀', '🎉', '𝄞', '🚀');
  const gsmChar = fc.oneof({ arbitrary: basic, weight: 6 }, { arbitrary: extension, weight: 1 });
  const anyChar = fc.oneof({ arbitrary: basic, weight: 10 }, { arbitrary: extension, weight: 2 }, { arbitrary: nonGsm, weight: 1 });
  const text = (char: fc.Arbitrary<string>, maxLength: number) => fc.array(char, { maxLength }).map((chars) => chars.join(''));
  /** GSM-only bodies half the time, so that both encodings and both sides of every limit come up. */
  const body = fc.oneof(text(gsmChar, 500), text(anyChar, 500), fc.string({ unit: 'grapheme', maxLength: 300 }));

  it('never takes fewer segments when a character is appended', () => {
    fc.assert(
      fc.property(body, fc.oneof(anyChar, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), (start, char) => {
        expect(smsSegments(start + char).segments).toBeGreaterThanOrEqual(smsSegments(start).segments);
      }),
      { numRuns: 500 },
    );
  });

  it('a GSM-7 body of n basic characters takes 1 segment up to 160, else ceil(n / 153)', () => {
    fc.assert(
      fc.property(text(basic, 1700), (s) => {
        const n = [...s].length;
        expect(smsSegments(s)).toEqual({ encoding: 'GSM-7', segments: n <= 160 ? 1 : Math.ceil(n / 153), units: n });
      }),
      { numRuns: 300 },
    );
  });

  it('a UCS-2 body of n BMP characters takes 1 segment up to 70, else ceil(n / 67)', () => {
    const bmp = fc.oneof(basic, extension, fc.constantFrom('ç', ZHE, '中', '’'));
    fc.assert(
      fc.property(text(bmp, 500), fc.nat(), (s, at) => {
        const withZhe = s.slice(0, at % (s.length + 1)) + ZHE + s.slice(at % (s.length + 1));
        const n = withZhe.length;
        expect(smsSegments(withZhe)).toEqual({ encoding: 'UCS-2', segments: n <= 70 ? 1 : Math.ceil(n / 67), units: n });
      }),
      { numRuns: 300 },
    );
  });

  it('counts units exactly and wastes at most one unit per concatenated segment', () => {
    fc.assert(
      fc.property(body, (s) => {
        const { encoding, segments, units } = smsSegments(s);
        const gsm = encoding === 'GSM-7';
        const extensions = [...s].filter((c) => GSM7_EXTENSION_CHARACTERS.includes(c)).length;
        expect(units).toBe(gsm ? [...s].length + extensions : s.length);
        const [single, per] = gsm
          ? [GSM7_SINGLE_SEGMENT_SEPTETS, GSM7_CONCATENATED_SEGMENT_SEPTETS]
          : [UCS2_SINGLE_SEGMENT_UNITS, UCS2_CONCATENATED_SEGMENT_UNITS];
        if (units <= single) {
          expect(segments).toBe(1);
        } else {
          expect(segments).toBeGreaterThanOrEqual(Math.ceil(units / per));
          expect(segments).toBeLessThanOrEqual(Math.ceil(units / (per - 1)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with Twilio’s segment calculator (bodies whose characters are graphemes of their own)', () => {
    // The calculator keeps whole grapheme clusters together; with one code point per
    // grapheme its rules and ours are the same.
    fc.assert(
      fc.property(fc.oneof(text(gsmChar, 500), text(anyChar, 500)), (s) => {
        const twilio = new SegmentedMessage(s);
        const ours = smsSegments(s);
        expect([ours.encoding, ours.segments]).toEqual([twilio.encodingName, twilio.segmentsCount]);
      }),
      { numRuns: 1000 },
    );
  });
});
