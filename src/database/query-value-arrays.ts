import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Runs one statement on the data source's pool and returns its rows as arrays of values,
 * in the order of the statement's columns (node-postgres `rowMode: 'array'`), parsed by
 * the pool's type parsers as any other read. node-postgres builds a row object by
 * copying a dictionary-mode template (`Object.create(null)`), one hash table per row;
 * an array per row is a fraction of that for a list page of many rows.
 * Goes past TypeORM's query runner, straight to the pg Pool (`driver.master`), and tells
 * the data source's logger about the query and its error as the query runner does: the
 * pool's query timeout still applies, and a client whose query failed is released with
 * the error, so the pool discards it.
 * @param dataSource a PostgreSQL data source
 * @param sql the statement, with $1.. placeholders
 * @param params the values of the placeholders
 * @returns the rows; each an array with one value per column of the statement
 * @throws the query's error (pg DatabaseError, or pg's 'Query read timeout')
 */
export async function queryValueArrays(dataSource: DataSource, sql: string, params: unknown[]): Promise<unknown[][]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  dataSource.logger.logQuery(sql, params);
  try {
    return (await pool.query<unknown[]>({ text: sql, values: params, rowMode: 'array' })).rows;
  } catch (error) {
    dataSource.logger.logQueryError(error as Error, sql, params);
    throw error;
  }
}
