/** One field that failed validation, named by its path in the request (`attachments[0]`). */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * Base of the coded errors services throw. The problem-details filter maps each to
 * an RFC 9457 answer with `status`; workers and webhooks read `code`.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  abstract readonly title: string;
  /** Response header fields the answer must carry (WWW-Authenticate, Retry-After). */
  readonly headers: Readonly<Record<string, string>> = {};
}

/** The request is well-formed JSON but breaks a rule (422). */
export class ValidationError extends AppError {
  readonly code = 'validation_failed';
  readonly status = 422;
  readonly title = 'Validation failed';
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  }
}

/** The resource named in the path does not exist (404). */
export class NotFoundError extends AppError {
  readonly code = 'not_found';
  readonly status = 404;
  readonly title = 'Not found';
}

/** The request conflicts with the resource's current state (409). */
export class ConflictError extends AppError {
  readonly code = 'conflict';
  readonly status = 409;
  readonly title = 'Conflict';
}

/** A dependency of ours (the database, the queue) cannot be reached (503). */
export class ServiceUnavailableError extends AppError {
  readonly code = 'service_unavailable';
  readonly status = 503;
  readonly title = 'Service unavailable';
}

/**
 * The request carries no valid client credentials (401). Answered with
 * `WWW-Authenticate: Bearer ...` as RFC 6750, section 3 asks.
 */
export class UnauthorizedError extends AppError {
  readonly code = 'unauthorized';
  readonly status = 401;
  readonly title = 'Unauthorized';
  override readonly headers: Readonly<Record<string, string>>;
  /**
   * @param message the problem's detail
   * @param challenge the WWW-Authenticate value, e.g. `Bearer realm="messaging-service"`
   */
  constructor(message: string, challenge: string) {
    super(message);
    this.headers = { 'WWW-Authenticate': challenge };
  }
}

/** The caller used up its rate limit (429, RFC 6585); `Retry-After` says when to try again. */
export class TooManyRequestsError extends AppError {
  readonly code = 'rate_limited';
  readonly status = 429;
  readonly title = 'Too many requests';
  override readonly headers: Readonly<Record<string, string>>;
  /**
   * @param message the problem's detail
   * @param headers Retry-After (delay-seconds) and the RateLimit-* fields of the answer
   */
  constructor(message: string, headers: Record<string, string>) {
    super(message);
    this.headers = headers;
  }
}
