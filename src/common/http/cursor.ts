import type { EntityMetadata, Repository } from 'typeorm';
import { rawColumnName } from '../../database/entity-from-row';
import { queryValueArrays } from '../../database/query-value-arrays';
import { ValidationError } from '../errors/app-error';

/**
 * Where a keyset page starts: after the row with this sort time and id. The time keeps
 * PostgreSQL's microseconds (ISO 8601, UTC, six decimals): a JavaScript Date would cut
 * them to milliseconds and skip or repeat rows stored within one millisecond.
 */
export interface CursorKey {
  /** e.g. `2026-05-21T18:00:00.123456Z` */
  time: string;
  /** bigint id as decimal digits */
  id: string;
}

const TIME_SYNTAX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ID_SYNTAX = /^[1-9]\d{0,15}$/;
/** to_char() pattern of CursorKey.time (a bound parameter: its colons are no query parameters). */
const TIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/**
 * @param list which list the cursor belongs to (`conversations`, ...), so that a cursor
 *   of one list is refused by another
 * @returns the opaque cursor: base64url of a small JSON document. Clients must not build
 *   or read it; it is only valid for the list it came from.
 */
export function encodeCursor(list: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ l: list, t: key.time, i: key.id })).toString('base64url');
}

/**
 * @returns the key of a cursor made by encodeCursor() for `list`
 * @throws ValidationError (422, field `cursor`) for anything else
 */
export function decodeCursor(list: string, cursor: string): CursorKey {
  let doc: unknown;
  try {
    doc = /^[A-Za-z0-9_-]{1,512}$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    doc = undefined;
  }
  const { l, t, i } = (doc ?? {}) as { l?: unknown; t?: unknown; i?: unknown };
  if (l !== list || typeof t !== 'string' || !TIME_SYNTAX.test(t) || Number.isNaN(Date.parse(t)) || typeof i !== 'string' || !ID_SYNTAX.test(i) || !Number.isSafeInteger(Number(i))) {
    throw new ValidationError([{ field: 'cursor', message: 'is not a cursor of this list: use the URL of a Link rel="next" as it is, or an empty cursor for the first page' }]);
  }
  return { time: t, id: i };
}

/** A keyset page: its rows, and the cursor of the next page (null on the last page). */
export interface KeysetPage<T> {
  rows: T[];
  next: string | null;
}

/** The sort key of a keyset list: a timestamptz column and the id, both in one direction. */
export interface KeysetOrder {
  /** The cursor's list name (encodeCursor). */
  list: string;
  /** The time column, e.g. `last_message_at`. */
  timeColumn: string;
  direction: 'ASC' | 'DESC';
}

/** Equality filters of a keyset list: column name -> value; an undefined value filters nothing. */
export type KeysetFilters = Readonly<Record<string, string | undefined>>;

/**
 * Reads one keyset page of `repository`'s table: the rows matching every filter, after
 * `after` (none: from the start) in `order`, `perPage` of them. The condition is a row
 * comparison, `(time, id) < ($time, $id)` (or `>` ascending), which PostgreSQL answers
 * from an index on (time, id) (with any equality columns before them) by seeking
 * straight to the position: the cost does not grow with the depth of the page, unlike
 * OFFSET. One row more than asked is read to know whether a next page exists.
 * One statement written here, its rows read as arrays of values and made plain objects
 * with the entity's property names: TypeORM's query building and hydration cost more
 * than the query itself on a loaded API, and node-postgres's row objects (one
 * dictionary-mode object per row) were a sixth of what a message list allocated.
 * @param filters column names are code, never input; values are bound parameters
 * @param select the entity properties to read (`id` always is); all columns without it.
 *   A list reads what its answer shows: each column more is a value to parse per row.
 * @returns rows that are plain objects (not entity instances) holding the read properties
 * @throws Error when a property has no plain column (a mistake in code, see columnOf)
 */
export async function keysetPage<T extends { id: string }, K extends keyof T & string = keyof T & string>(
  repository: Repository<T>,
  filters: KeysetFilters,
  order: KeysetOrder,
  after: CursorKey | null,
  perPage: number,
  select?: readonly K[],
): Promise<KeysetPage<Pick<T, K | 'id'>>> {
  const params: unknown[] = [TIME_FORMAT];
  const conditions: string[] = [];
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    params.push(value);
    conditions.push(`"${column}" = $${params.length}`);
  }
  const time = `"${order.timeColumn}"`;
  if (after) {
    params.push(after.time, after.id);
    conditions.push(`(${time}, "id") ${order.direction === 'DESC' ? '<' : '>'} ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
  }
  params.push(perPage + 1);
  const { metadata } = repository;
  const properties = ['id', ...(select ?? metadata.columns.map((column) => column.propertyName).filter((property) => property !== 'id'))];
  const sql =
    `SELECT ${properties.map((property) => `"${columnOf(metadata, property)}"`).join(', ')}, to_char(${time} AT TIME ZONE 'UTC', $1) AS keyset_time` +
    ` FROM "${metadata.tableName}"` +
    (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
    ` ORDER BY ${time} ${order.direction}, "id" ${order.direction} LIMIT $${params.length}`;
  const raw = await queryValueArrays(repository.manager.connection, sql, params);
  const rows = raw.slice(0, perPage).map((values) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < properties.length; i++) row[properties[i]] = values[i];
    return row as Pick<T, K | 'id'>;
  });
  if (raw.length <= perPage) return { rows, next: null };
  const last = raw[perPage - 1];
  return { rows, next: encodeCursor(order.list, { time: last[properties.length] as string, id: String(last[0]) }) };
}

/**
 * @returns the column name of `property`
 * @throws Error when the entity has no column for it, or one a raw read cannot give
 *   (rawColumnName): a mistake in code
 */
function columnOf(metadata: EntityMetadata, property: string): string {
  const column = metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`${metadata.name} has no column ${property}`);
  return rawColumnName(metadata, column);
}
