import { type ArgumentsHost, HttpException, Logger, ServiceUnavailableException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AppError, NotFoundError, ServiceUnavailableError, TooManyRequestsError, UnauthorizedError } from './app-error';
import { ProblemDetailsFilter } from './problem-details.filter';

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** An ArgumentsHost whose response records what was sent. */
function host(): { host: ArgumentsHost; sent: { status?: number; type?: string; body?: string; headers: Record<string, string> } } {
  const sent: { status?: number; type?: string; body?: string; headers: Record<string, string> } = { headers: {} };
  const response = {
    headersSent: false,
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
    },
    status(code: number) {
      sent.status = code;
      return this;
    },
    type(type: string) {
      sent.type = type;
      return this;
    },
    send(body: string) {
      sent.body = body;
      return this;
    },
  };
  return { host: { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost, sent };
}

describe('ProblemDetailsFilter', () => {
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('answers an unreachable database with a 503 problem', () => {
    const { host: h, sent } = host();
    new ProblemDetailsFilter().catch(new QueryFailedError('SELECT 1', [], refused()), h);
    expect(sent.status).toBe(503);
    expect(sent.type).toBe('application/problem+json');
    expect(JSON.parse(sent.body!)).toMatchObject({ status: 503, code: 'service_unavailable' });
  });

  it('logs an outage as one warning per interval, not a stack per refused request', () => {
    const filter = new ProblemDetailsFilter();
    for (let i = 0; i < 200; i++) filter.catch(refused(), host().host);
    expect(error).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toBe('Database unavailable, answering 503: connect ECONNREFUSED 127.0.0.1:5432');
  });

  it("sends a coded error's headers with its problem, and none for errors without", () => {
    class Busy extends AppError {
      readonly code = 'busy';
      readonly status = 409;
      readonly title = 'Busy';
      readonly headers = { 'Retry-After': '1' };
    }
    const busy = host();
    new ProblemDetailsFilter().catch(new Busy('try again'), busy.host);
    expect(busy.sent).toMatchObject({ status: 409, headers: { 'Retry-After': '1' } });
    expect(JSON.parse(busy.sent.body!)).toMatchObject({ status: 409, code: 'busy', detail: 'try again' });
    const missing = host();
    new ProblemDetailsFilter().catch(new NotFoundError('nope'), missing.host);
    expect(missing.sent.headers).toEqual({});
  });

  it('logs an unexpected error with its stack', () => {
    new ProblemDetailsFilter().catch(new Error('boom'), host().host);
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0][0]).toContain('Error: boom');
  });

  describe('loggingOf', () => {
    it.each([
      ['a client error', new NotFoundError('no'), 404, 'none'],
      ['the readiness check failing (503 HttpException)', new ServiceUnavailableException({ status: 'error' }), 503, 'none'],
      ['an unreachable database', refused(), 503, 'database_unavailable'],
      ['an unreachable database, wrapped by TypeORM', new QueryFailedError('SELECT 1', [], refused()), 503, 'database_unavailable'],
      ['a 503 AppError thrown on purpose', new ServiceUnavailableError('queue down'), 503, 'stack'],
      ['another 5xx HttpException', new HttpException('bad gateway', 502), 502, 'stack'],
      ['an unexpected error', new Error('boom'), 500, 'stack'],
    ])('%s: %s', (_what, exception, status, expected) => {
      expect(ProblemDetailsFilter.loggingOf(exception, status as number)).toBe(expected);
    });
  });

  it('sets the header fields a coded error names: WWW-Authenticate on 401, Retry-After on 429', () => {
    const filter = new ProblemDetailsFilter();
    const unauthorized = host();
    filter.catch(new UnauthorizedError('no key', 'Bearer realm="x"'), unauthorized.host);
    expect(unauthorized.sent).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="x"' } });
    expect(JSON.parse(unauthorized.sent.body!)).toEqual({ type: '/problems/unauthorized', title: 'Unauthorized', status: 401, detail: 'no key', code: 'unauthorized' });
    const limited = host();
    filter.catch(new TooManyRequestsError('slow down', { 'Retry-After': '7' }), limited.host);
    expect(limited.sent).toMatchObject({ status: 429, headers: { 'Retry-After': '7' } });
    const plain = host();
    filter.catch(new NotFoundError('none'), plain.host);
    expect(plain.sent.headers).toEqual({});
  });
});
