/**
 * How many SMS segments a message body takes, and in which encoding it travels.
 *
 * Rules (3GPP TS 23.038 and TS 23.040):
 * - A body made only of characters of the GSM 7-bit default alphabet and its default
 *   extension table is sent as GSM-7. A basic character takes one septet; an extension
 *   character (`^ { } \ [ ~ ] | €` and form feed) takes two: the escape (0x1B) and the
 *   character itself.
 * - Any other character makes the whole body UCS-2: every UTF-16 code unit takes two
 *   octets, so a character outside the Basic Multilingual Plane (an emoji, say) takes
 *   two units, as a surrogate pair. (Carriers send UTF-16 under the name UCS-2.)
 * - One segment holds 140 octets: 160 septets or 70 UCS-2 units. A longer body is sent
 *   as a concatenated SMS, each segment carrying a 6-octet user data header, which
 *   leaves 153 septets or 67 units per segment.
 * - A segment never ends inside a character: an extension character's escape and
 *   character stay together, and so do the two halves of a surrogate pair. When one
 *   does not fit in what is left of a segment, it starts the next one (the segment
 *   keeps a septet or unit unused), as Twilio's segment calculator does.
 *
 * Characters are taken as they are: no "smart encoding" that would replace curly quotes
 * or other look-alikes by GSM characters. The national language shift tables of
 * TS 23.038 (Turkish, Spanish, Portuguese, Indian languages) are not used. Grapheme
 * clusters (a ZWJ emoji sequence, a letter with combining marks) may be split between
 * segments at any code point boundary: the phone joins the segments before it shows them.
 */

/** The encoding a body is sent in. */
export type SmsEncoding = 'GSM-7' | 'UCS-2';
export const SMS_ENCODINGS: readonly SmsEncoding[] = ['GSM-7', 'UCS-2'];

/** What a body takes as SMS. */
export interface SmsSegmentation {
  encoding: SmsEncoding;
  /** Segments (SMS parts) the body is sent as; at least 1, also for an empty body. */
  segments: number;
  /** Size of the whole body: septets for GSM-7 (an extension character counts 2), UTF-16 code units for UCS-2. */
  units: number;
}

/** Septets in a GSM-7 body that fits one SMS. */
export const GSM7_SINGLE_SEGMENT_SEPTETS = 160;
/** Septets per segment of a concatenated GSM-7 SMS (140 octets less a 6-octet header, in whole septets). */
export const GSM7_CONCATENATED_SEGMENT_SEPTETS = 153;
/** UTF-16 code units in a UCS-2 body that fits one SMS. */
export const UCS2_SINGLE_SEGMENT_UNITS = 70;
/** UTF-16 code units per segment of a concatenated UCS-2 SMS. */
export const UCS2_CONCATENATED_SEGMENT_UNITS = 67;

/**
 * The GSM 7-bit default alphabet (TS 23.038 §6.2.1), in table order 0x00 to 0x7F, less
 * 0x1B (the escape to the extension table, not a character of its own).
 */
export const GSM7_BASIC_CHARACTERS =
  '@£$¥èéùìòÇ\nØø\rÅå' + // 0x00-0x0F
  'Δ_ΦΓΛΩΠΨΣΘΞ' + //          0x10-0x1A (the Greek capitals are U+0394, U+03A6, U+0393, U+039B, U+03A9, U+03A0, U+03A8, U+03A3, U+0398, U+039E)
  'ÆæßÉ' + //                 0x1C-0x1F
  ' !"#¤%&\'()*+,-./0123456789:;<=>?' + // 0x20-0x3F
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§' + //  0x40-0x5F
  '¿abcdefghijklmnopqrstuvwxyzäöñüà'; //   0x60-0x7F

/**
 * The characters of the default extension table (TS 23.038 §6.2.1.1) that map to
 * Unicode: form feed, `^ { } \ [ ~ ] |` and the euro sign. Each is sent as escape + character.
 */
export const GSM7_EXTENSION_CHARACTERS = '\f^{}\\[~]|€';

const BASIC = new Set(GSM7_BASIC_CHARACTERS);
const EXTENSION = new Set(GSM7_EXTENSION_CHARACTERS);

/**
 * Septets one character takes in GSM-7: 1 (default alphabet), 2 (extension table), or
 * undefined when GSM-7 cannot carry it.
 * @param char one code point (as `for...of` over a string yields them)
 */
export function gsm7Septets(char: string): 1 | 2 | undefined {
  if (BASIC.has(char)) return 1;
  if (EXTENSION.has(char)) return 2;
  return undefined;
}

/**
 * Counts the SMS segments of a body (rules above).
 * @param body the message text, as a JavaScript (UTF-16) string; lone surrogates count one unit each
 * @returns encoding, segments (>= 1; an empty body is one segment) and units
 */
export function smsSegments(body: string): SmsSegmentation {
  // The size of each character (code point) in units of the encoding, in order: packing
  // whole characters never splits an escape from its character or a surrogate pair.
  const chars = [...body];
  const septets = chars.map(gsm7Septets);
  const gsm7 = septets.every((size) => size !== undefined);
  const sizes = gsm7 ? (septets as number[]) : chars.map((char) => char.length);
  const units = sizes.reduce((sum, size) => sum + size, 0);
  const [single, concatenated] = gsm7
    ? [GSM7_SINGLE_SEGMENT_SEPTETS, GSM7_CONCATENATED_SEGMENT_SEPTETS]
    : [UCS2_SINGLE_SEGMENT_UNITS, UCS2_CONCATENATED_SEGMENT_UNITS];
  return { encoding: gsm7 ? 'GSM-7' : 'UCS-2', segments: units <= single ? 1 : pack(sizes, concatenated), units };
}

/** Fills segments of `capacity` units in order with whole characters; returns how many it takes. */
function pack(sizes: number[], capacity: number): number {
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > capacity) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
}
