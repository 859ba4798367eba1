import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AppError, ValidationError } from './app-error';
import { isDatabaseUnavailable } from './database-errors';
import { problem, PROBLEM_CONTENT_TYPE, ProblemDetails } from './problem-details';
import { ThrottledLog } from './throttled-log';

/** Least time between two "database unavailable" log lines while requests keep failing, ms. */
const UNAVAILABLE_LOG_INTERVAL_MS = 10_000;

/** How an error answered with a problem is logged: not at all, as one throttled warning, or with its stack. */
export type ProblemLogging = 'none' | 'database_unavailable' | 'stack';

/**
 * Maps every error that leaves a controller to an `application/problem+json` answer
 * (RFC 9457): coded AppErrors with their status (and the header fields they name, such
 * as WWW-Authenticate or Retry-After), Nest HttpExceptions with theirs, an
 * unreachable database as 503, anything else as a 500 without internals.
 *
 * Unexpected errors are logged with their stack. An unreachable database is logged as
 * a warning at most every 10 s (with the number of requests refused meanwhile), not a
 * stack per request: an outage under load would otherwise write thousands of lines.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);
  private readonly unavailableLog = new ThrottledLog((line) => this.logger.warn(line), UNAVAILABLE_LOG_INTERVAL_MS);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toProblem(exception);
    switch (ProblemDetailsFilter.loggingOf(exception, body.status)) {
      case 'stack':
        this.logger.error(exception instanceof Error ? exception.stack : String(exception));
        break;
      case 'database_unavailable':
        this.unavailableLog.record(`Database unavailable, answering 503: ${(exception as Error).message}`);
        break;
    }
    if (response.headersSent) return;
    if (exception instanceof AppError) {
      for (const [name, value] of Object.entries(exception.headers)) response.setHeader(name, value);
    }
    response.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  /**
   * @param exception what was thrown
   * @param status the status it is answered with (toProblem)
   * @returns how to log it: 4xx not at all; a 503 an HttpException chose (the readiness
   *   check's, whose body says what is down) not at all; an unreachable database as a
   *   throttled warning; any other 5xx with its stack
   */
  static loggingOf(exception: unknown, status: number): ProblemLogging {
    if (status < 500) return 'none';
    if (exception instanceof HttpException) return status === 503 ? 'none' : 'stack';
    if (status === 503 && !(exception instanceof AppError) && isDatabaseUnavailable(exception)) return 'database_unavailable';
    return 'stack';
  }

  /**
   * @param exception what was thrown
   * @returns the problem details body that describes it to a client
   */
  toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof ValidationError) {
      return problem(422, exception.code, exception.title, 'The request body or parameters are invalid.', exception.errors);
    }
    if (exception instanceof AppError) {
      return problem(exception.status, exception.code, exception.title, exception.message);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const title = HttpStatus[status]?.toString().replace(/_/g, ' ').toLowerCase() ?? 'error';
      const code = HttpStatus[status]?.toString().toLowerCase() ?? 'error';
      return problem(status, code, title.charAt(0).toUpperCase() + title.slice(1), exception.message);
    }
    if (isDatabaseUnavailable(exception)) {
      return problem(503, 'service_unavailable', 'Service unavailable', 'The database is unavailable; try again shortly.');
    }
    return problem(500, 'internal_error', 'Internal server error', 'An unexpected error occurred.');
  }
}
