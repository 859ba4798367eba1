/** The character codes of "00".."99": code of the tens digit at 2n, of the units digit at 2n + 1. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10));

const MS_PER_DAY = 86_400_000;
/** 10000-01-01T00:00:00Z: from here on toISOString writes a six-digit year with a sign. */
const YEAR_10000_MS = 253_402_300_800_000;

/**
 * Writes `date` as `Date.prototype.toISOString` does (`YYYY-MM-DDTHH:mm:ss.sssZ`, UTC;
 * ECMA-262, 21.4.4.36), about three times as fast for the instants a message carries,
 * counting the JSON.stringify that writes the string out: from 1970 to 9999 the fields
 * are worked out with integer arithmetic (days to civil date: H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", `civil_from_days`) and their digits
 * read from a table into one string. A message resource writes four timestamps, so a
 * page of 50 made 200 calls to toISOString, 8% of a message list's CPU. Any other
 * instant goes to toISOString itself.
 * @returns the ISO 8601 text of the instant, in UTC, to the millisecond
 * @throws RangeError for an invalid Date, as toISOString does
 */
export function isoTimestamp(date: Date): string {
  const ms = date.getTime();
  if (!(ms >= 0 && ms < YEAR_10000_MS)) return date.toISOString();
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  // civil_from_days: eras of 400 years (146,097 days) counted from 0000-03-01.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const century = 2 * Math.floor(year / 100);
  const yy = 2 * (year % 100);
  const mm = 2 * month;
  const dd = 2 * day;
  const hh = 2 * hour;
  const mi = 2 * minute;
  const ss = 2 * second;
  const hundreds = Math.floor(milli / 100);
  const tensAndUnits = 2 * (milli - hundreds * 100);
  const p = DIGIT_PAIRS;
  // One flat string from its 24 character codes. Concatenating the fields instead makes a
  // chain of cons strings that JSON.stringify must flatten: slower than toISOString and
  // a fifth of all the bytes a message list allocated.
  return String.fromCharCode(
    p[century], p[century + 1], p[yy], p[yy + 1], 45 /* - */, p[mm], p[mm + 1], 45, p[dd], p[dd + 1], 84 /* T */,
    p[hh], p[hh + 1], 58 /* : */, p[mi], p[mi + 1], 58, p[ss], p[ss + 1], 46 /* . */, 48 + hundreds, p[tensAndUnits], p[tensAndUnits + 1], 90 /* Z */,
  );
}
