import { AppError } from '../common/errors/app-error';

/** Seconds a client is told to wait (`Retry-After`) before retrying a key that is in flight. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * The `Idempotency-Key` header is malformed (400): not 1..255 printable ASCII
 * characters, a broken structured-field string, or sent more than once.
 *
 * 400, not 422: the header, not the body, is wrong, and the draft
 * (draft-ietf-httpapi-idempotency-key-header, "Error Scenarios") answers header
 * problems (a missing key) with 400 and keeps 422 for one meaning only, a key reused
 * with another payload, which a client has to tell apart from this one.
 */
export class InvalidIdempotencyKeyError extends AppError {
  readonly code = 'invalid_idempotency_key';
  readonly status = 400;
  readonly title = 'Invalid Idempotency-Key';
}

/**
 * The key was already used, within its retention, for a different request: another
 * endpoint or another body (422, draft-ietf-httpapi-idempotency-key-header, "Error
 * Scenarios"). The client must use a new key for a new request.
 */
export class IdempotencyKeyReusedError extends AppError {
  readonly code = 'idempotency_key_reused';
  readonly status = 422;
  readonly title = 'Idempotency-Key is already used';
  constructor() {
    super('This Idempotency-Key was already used for a different request (another endpoint or body); use a new key for a new request.');
  }
}

/**
 * Another request with the same key is being processed right now (409 with
 * `Retry-After`, draft-ietf-httpapi-idempotency-key-header, "Error Scenarios"). Retrying
 * the same request after that many seconds gets its answer replayed.
 */
export class IdempotencyKeyInFlightError extends AppError {
  readonly code = 'idempotency_key_in_flight';
  readonly status = 409;
  readonly title = 'A request is outstanding for this Idempotency-Key';
  readonly headers = { 'Retry-After': String(IN_FLIGHT_RETRY_AFTER_SECONDS) };
  constructor() {
    super('A request with the same Idempotency-Key is being processed; retry the same request after Retry-After seconds to get its answer.');
  }
}
