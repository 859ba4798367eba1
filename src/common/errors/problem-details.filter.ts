import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AppError, ValidationError } from './app-error';
import { isDatabaseUnavailable } from './database-errors';
import { problem, PROBLEM_CONTENT_TYPE, ProblemDetails } from './problem-details';

/**
 * Maps every error that leaves a controller to an `application/problem+json` answer
 * (RFC 9457): coded AppErrors with their status, Nest HttpExceptions with theirs, an
 * unreachable database as 503, anything else as a 500 without internals.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toProblem(exception);
    if (body.status >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (response.headersSent) return;
    response.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
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
