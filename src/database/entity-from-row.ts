import type { EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/** Where each column of a row goes: the row's key and the entity's property. */
type ColumnMapping = readonly (readonly [rowKey: string, property: string])[];

const mappings = new WeakMap<EntityMetadata, ColumnMapping>();

/**
 * @returns the name of `column` in a row of a raw query, whose value node-postgres has
 *   parsed as TypeORM's own reads get it
 * @throws Error when TypeORM converts the column's value itself (transformer,
 *   simple-json, simple-array, embedded): a raw read would hold it unconverted (a
 *   mistake in code)
 */
export function rawColumnName(metadata: EntityMetadata, column: ColumnMetadata): string {
  if (column.embeddedMetadata || column.transformer || column.type === 'simple-json' || column.type === 'simple-array') {
    throw new Error(`${metadata.name}.${column.propertyName} needs TypeORM's hydration; read it through the repository`);
  }
  return column.databaseName;
}

function mappingOf(metadata: EntityMetadata): ColumnMapping {
  let mapping = mappings.get(metadata);
  if (!mapping) {
    mapping = metadata.columns.map((column) => [rawColumnName(metadata, column), column.propertyName] as const);
    mappings.set(metadata, mapping);
  }
  return mapping;
}

/**
 * Builds an entity from a row of a raw query (`SELECT *`, `RETURNING *`), without TypeORM's
 * hydration: a read of many rows spends much of its time there. node-postgres has
 * already parsed the values (timestamptz as Date, jsonb, arrays, bigint as a decimal
 * string), as for TypeORM's own reads; the entity must have no column TypeORM converts
 * itself (transformer, simple-json, simple-array, embedded), else this throws.
 * @param metadata the entity's metadata (`repository.metadata`)
 * @param row the row; a column it does not hold is left unset
 */
export function entityFromRow<T>(metadata: EntityMetadata, row: Record<string, unknown>): T {
  const entity = metadata.create() as Record<string, unknown>;
  for (const [rowKey, property] of mappingOf(metadata)) {
    if (rowKey in row) entity[property] = row[rowKey];
  }
  return entity as T;
}
