import type { DataSource } from 'typeorm';

/** A query TypeORM ran, as its logger saw it. */
export interface CapturedQuery {
  sql: string;
  params: unknown[];
}

/**
 * Records every query `dataSource` runs (through TypeORM's logger hook, whatever the
 * logging settings) until stop() puts its logger back.
 * @returns the queries so far (a live list: empty it with `queries.length = 0`) and stop()
 */
export function captureQueries(dataSource: DataSource): { queries: CapturedQuery[]; stop(): void } {
  const queries: CapturedQuery[] = [];
  const logger = dataSource.logger;
  Object.assign(dataSource, { logger: { ...logger, logQuery: (sql: string, params?: unknown[]) => queries.push({ sql, params: params ?? [] }) } });
  return { queries, stop: () => Object.assign(dataSource, { logger }) };
}
