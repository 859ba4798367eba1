import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDatabaseUnavailable } from './database-errors';

const withCode = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection (server stopped)', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset connection', withCode('ECONNRESET')],
    ['a host name that no longer resolves (stopped compose service)', withCode('ENOTFOUND', 'getaddrinfo ENOTFOUND db')],
    ['a temporary DNS failure', withCode('EAI_AGAIN', 'getaddrinfo EAI_AGAIN db')],
    ['an unreachable host', withCode('EHOSTUNREACH')],
    ['an unreachable network', withCode('ENETUNREACH')],
    ['admin shutdown (57P01, fast shutdown)', withCode('57P01', 'terminating connection due to administrator command')],
    ['the server shutting down or starting up (57P03)', withCode('57P03', 'the database system is starting up')],
    ['SQLSTATE class 08 (connection exception)', withCode('08006')],
    ['too many connections', withCode('53300')],
    ['a connection closed under a query', new Error('Connection terminated unexpectedly')],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a query on a client whose connection was lost', new QueryFailedError('SELECT 1', [], new Error('Client has encountered a connection error and is not queryable'))],
    ['a query on a closed client', new Error('Client was closed and is not queryable')],
    ['a TypeORM error wrapping a connection failure', new QueryFailedError('SELECT 1', [], withCode('57P01'))],
    ['a transaction whose connection was closed between two queries', new QueryRunnerAlreadyReleasedError()],
    ['a transaction whose connection was closed, queried through its manager', new QueryRunnerProviderAlreadyReleasedError()],
  ])('is true for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', new QueryFailedError('SELEC 1', [], withCode('42601'))],
    ['a plain error', new Error('boom')],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
  ])('is false for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
