import { isEmail } from 'class-validator';
import { CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { LRUCache } from 'lru-cache';
import { Channel } from '../common/channel';

const PHONE_CHARACTERS = /^\+?[\d\s().\-\/]+$/;

/**
 * Numbers already normalised, by region and number as written: a gateway sees the same
 * few numbers (its senders, their regular recipients) over and over, and libphonenumber's
 * parse costs ~10 us a number (5% of the API's CPU under load before this cache). `''`
 * stands for "not a possible number" (the cache holds no null).
 */
const normalizedNumbers = new LRUCache<string, string>({ max: 10_000 });

/**
 * Normalises a phone number to E.164.
 * Accepts a *possible* number (right length for its country, per libphonenumber), not
 * only a *valid* one, so example numbers such as +11234567890 pass; a leading `00` is
 * read as `+` (ITU-T E.123 international prefix).
 * @param raw the number as written (`+1 (201) 555-0123`, `12015550123`, `0012015550123`)
 * @param defaultRegion ISO 3166-1 alpha-2 region for numbers without a country code
 * @returns the E.164 form (`+12015550123`), or null when it is not a possible number
 */
export function normalizePhoneNumber(raw: string, defaultRegion: string): string | null {
  const key = `${defaultRegion} ${raw}`;
  let normalized = normalizedNumbers.get(key);
  if (normalized === undefined) {
    normalized = parsePhoneNumber(raw, defaultRegion) ?? '';
    normalizedNumbers.set(key, normalized);
  }
  return normalized === '' ? null : normalized;
}

/** normalizePhoneNumber() without the cache. */
function parsePhoneNumber(raw: string, defaultRegion: string): string | null {
  let input = raw.trim();
  if (!PHONE_CHARACTERS.test(input)) return null;
  if (input.startsWith('00')) input = `+${input.slice(2)}`;
  const parsed = parsePhoneNumberFromString(input, defaultRegion as CountryCode);
  return parsed && parsed.isPossible() ? parsed.number : null;
}

const DISPLAY_NAME_FORM = /^[^<>]*<([^<>]+)>$/;

/**
 * Normalises an email address for use as a conversation key: drops a display name
 * (`Ann <ann@example.com>`, RFC 5322 name-addr) or a `mailto:` prefix (RFC 6068) and
 * lower-cases the whole address.
 * @returns the bare address, or null when it is not an email address
 */
export function normalizeEmailAddress(raw: string): string | null {
  let address = raw.trim();
  const named = DISPLAY_NAME_FORM.exec(address);
  if (named) address = named[1].trim();
  if (/^mailto:/i.test(address)) address = address.slice('mailto:'.length);
  address = address.toLowerCase();
  return isEmail(address) ? address : null;
}

/**
 * Normalises an address for a channel.
 * @returns the normalised address, or null when it does not fit the channel
 */
export function normalizeAddress(channel: Channel, raw: string, defaultRegion: string): string | null {
  return channel === 'email' ? normalizeEmailAddress(raw) : normalizePhoneNumber(raw, defaultRegion);
}
