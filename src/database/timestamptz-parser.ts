import { types } from 'pg';

/** PostgreSQL's type OID of `timestamp with time zone` (pg_type). */
const TIMESTAMPTZ_OID = 1184;

/** node-postgres's own parser of `timestamptz` text (postgres-date). */
const pgTimestamptz = types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date | number | null;

/**
 * Parses PostgreSQL's text form of a `timestamptz` to a Date, as node-postgres does
 * (postgres-date), faster for the form a UTC session sends: `2026-11-29 21:43:11.123456+00`
 * (DateStyle ISO; PostgreSQL docs, 8.5.2 "Date/Time Output"). That form is handed to
 * V8's own ISO 8601 parser (`2026-11-29T21:43:11.123456Z`), which keeps whole
 * milliseconds as postgres-date does; anything else (another zone offset, BC, a year past
 * 9999, infinity) goes to postgres-date. A list page parses five per message: postgres-date's
 * regular expressions were 5% of a loaded API's CPU on message lists.
 * @param text the column's text, as PostgreSQL sent it
 * @returns the instant; postgres-date's answer for the other forms (±Infinity for infinity)
 */
export function parseTimestamptz(text: string): Date | number | null {
  if (text.length >= 22 && text.length <= 29 && text.charCodeAt(10) === 32 && text.endsWith('+00') && text.charCodeAt(4) === 45) {
    return new Date(`${text.slice(0, 10)}T${text.slice(11, -3)}Z`);
  }
  return pgTimestamptz(text);
}

/**
 * node-postgres type parsers for the service's connections (the pg Client's `types`
 * option): parseTimestamptz for `timestamptz` in text form, pg's defaults for the rest.
 */
export const serviceTypeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return parseTimestamptz;
    return (types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
};
