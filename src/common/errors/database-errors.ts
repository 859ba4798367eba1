import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';

/** PostgreSQL SQLSTATE classes and driver codes that mean "the database is unreachable", not "the query is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  // The server's host is gone: with docker compose, a stopped `db` container's name no
  // longer resolves (ENOTFOUND, or EAI_AGAIN), so a stopped database shows as a DNS error.
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

/**
 * Tells whether an error thrown by pg/TypeORM means the database cannot be reached.
 *
 * That includes TypeORM's "query runner already released" errors: when the connection
 * of a transaction is closed between two of its queries (PostgreSQL stopping:
 * 57P01 on an idle connection), TypeORM releases the query runner at once, and the
 * transaction's next query, or its COMMIT, throws one of them instead of a connection
 * error (the transaction is rolled back by the server). The service never uses a query
 * runner it released itself (all of them are TypeORM's own, inside transaction()).
 * @param error anything thrown by a query
 * @returns true for connection failures (SQLSTATE class 08, 57P0x, socket and DNS errors, pool and query timeouts, a query runner whose connection was lost)
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  if (error instanceof QueryRunnerAlreadyReleasedError || error instanceof QueryRunnerProviderAlreadyReleasedError) return true;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  // "... is not queryable": pg refuses a query on a client whose connection was lost.
  // "Query read timeout": no answer within DATABASE_QUERY_TIMEOUT_MS (a partition; the connection is then closed).
  if (/Connection terminated|timeout exceeded when trying to connect|Connection refused|is not queryable|Query read timeout/i.test(message)) return true;
  return e.driverError !== undefined && e.driverError !== error && isDatabaseUnavailable(e.driverError);
}
