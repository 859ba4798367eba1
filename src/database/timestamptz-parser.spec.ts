import fc from 'fast-check';
import { types } from 'pg';
import { parseTimestamptz, serviceTypeParsers } from './timestamptz-parser';

const pgTimestamptz = types.getTypeParser(1184, 'text') as (text: string) => unknown;

/** PostgreSQL's text of an instant in a session at `offset` (DateStyle ISO): `YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM]`. */
function postgresText(epochMs: number, micros: number, offsetMinutes: number): string {
  const local = new Date(epochMs + offsetMinutes * 60_000).toISOString(); // 2026-11-29T21:43:11.123Z
  const fraction = `${local.slice(20, 23)}${String(micros).padStart(3, '0')}`.replace(/0+$/, '');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : ''}`;
  return `${local.slice(0, 10)} ${local.slice(11, 19)}${fraction ? `.${fraction}` : ''}${zone}`;
}

describe('parseTimestamptz', () => {
  it('gives the same instant as node-postgres for any instant, fraction and zone offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1, 0, 1), max: Date.UTC(9999, 11, 31) }),
        fc.integer({ min: 0, max: 999 }),
        fc.constantFrom(0, 0, 0, 60, -300, 330, 545, -570),
        (epochMs, micros, offset) => {
          const text = postgresText(epochMs, micros, offset);
          expect(parseTimestamptz(text)).toEqual(pgTimestamptz(text));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('gives the same milliseconds as node-postgres for every fraction of 1 to 6 digits', () => {
    let mismatches = 0;
    for (let digits = 1; digits <= 6; digits++) {
      for (let fraction = 0; fraction < 10 ** digits; fraction++) {
        const text = `2026-11-29 21:43:11.${String(fraction).padStart(digits, '0')}+00`;
        if ((parseTimestamptz(text) as Date).getTime() !== (pgTimestamptz(text) as Date).getTime()) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it.each([
    ['2026-11-29 21:43:11.123456+00', '2026-11-29T21:43:11.123Z'],
    ['2026-11-29 21:43:11.999999+00', '2026-11-29T21:43:11.999Z'],
    ['2026-11-29 21:43:11+00', '2026-11-29T21:43:11.000Z'],
    ['2026-11-29 21:43:11.5+00', '2026-11-29T21:43:11.500Z'],
    ['0099-01-01 00:00:00+00', '0099-01-01T00:00:00.000Z'],
    ['1000-01-01 00:00:00.01+00', '1000-01-01T00:00:00.010Z'],
    ['9999-12-31 23:59:59.000001+00', '9999-12-31T23:59:59.000Z'],
    ['2026-11-29 22:43:11.123+01', '2026-11-29T21:43:11.123Z'],
  ])('%s is %s', (text, iso) => {
    expect((parseTimestamptz(text) as Date).toISOString()).toBe(iso);
    expect(parseTimestamptz(text)).toEqual(pgTimestamptz(text));
  });

  it.each([['infinity'], ['-infinity'], ['0044-03-15 12:00:00+00 BC'], ['12026-01-01 00:00:00+00'], ['2026-11-29 21:43:11.+00'], ['2026-11-29T21:43:11+00']])('leaves %s to node-postgres', (text) => {
    expect(parseTimestamptz(text)).toEqual(pgTimestamptz(text));
  });

  it('is the text parser of timestamptz on the service connections; other types keep node-postgres parsers', () => {
    expect(serviceTypeParsers.getTypeParser(1184, 'text')).toBe(parseTimestamptz);
    expect(serviceTypeParsers.getTypeParser(1184)).toBe(parseTimestamptz);
    expect(serviceTypeParsers.getTypeParser(1114, 'text')).toBe(types.getTypeParser(1114, 'text'));
    expect(serviceTypeParsers.getTypeParser(1184, 'binary')).toBe(types.getTypeParser(1184, 'binary'));
  });
});
