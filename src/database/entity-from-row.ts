import type { EntityMetadata } from 'typeorm';

/** Where each column of a row goes: the row's key and the entity's property. */
type ColumnMapping = readonly (readonly [rowKey: string, property: string])[];

const mappings = new WeakMap<EntityMetadata, Map<string, ColumnMapping>>();

function mappingOf(metadata: EntityMetadata, prefix: string): ColumnMapping {
  let byPrefix = mappings.get(metadata);
  if (!byPrefix) mappings.set(metadata, (byPrefix = new Map()));
  let mapping = byPrefix.get(prefix);
  if (!mapping) {
    mapping = metadata.columns.map((column) => {
      if (column.embeddedMetadata || column.transformer || column.type === 'simple-json' || column.type === 'simple-array') {
        throw new Error(`${metadata.name}.${column.propertyName} needs TypeORM's hydration; read it through the repository`);
      }
      return [prefix + column.databaseName, column.propertyName] as const;
    });
    byPrefix.set(prefix, mapping);
  }
  return mapping;
}

/**
 * Builds an entity from a row of a raw query (`RETURNING *`, or a query builder's
 * getRawMany(), whose columns are named `<alias>_<column>`), without TypeORM's
 * hydration: a read of many rows spends much of its time there. node-postgres has
 * already parsed the values (timestamptz as Date, jsonb, arrays, bigint as a decimal
 * string), as for TypeORM's own reads; the entity must have no column TypeORM converts
 * itself (transformer, simple-json, simple-array, embedded), else this throws.
 * @param metadata the entity's metadata (`repository.metadata`)
 * @param row the row; a column it does not hold is left unset
 * @param prefix put before each column name to find it in the row, e.g. `m_`
 */
export function entityFromRow<T>(metadata: EntityMetadata, row: Record<string, unknown>, prefix = ''): T {
  const entity = metadata.create() as Record<string, unknown>;
  for (const [rowKey, property] of mappingOf(metadata, prefix)) {
    if (rowKey in row) entity[property] = row[rowKey];
  }
  return entity as T;
}
