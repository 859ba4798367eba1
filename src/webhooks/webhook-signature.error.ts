import { AppError } from '../common/errors/app-error';

/**
 * A webhook request whose signature is missing, malformed, stale (outside the replay
 * window) or wrong (401). The message says which, never the expected value.
 */
export class WebhookSignatureError extends AppError {
  readonly code = 'invalid_signature';
  readonly status = 401;
  readonly title = 'Invalid webhook signature';
}
