import { AppError } from '../common/errors/app-error';

/**
 * A send to a recipient who opted out of messages from its sender number (replied
 * STOP or another opt-out keyword): 422 with code `recipient_opted_out`, like Twilio's
 * error 21610. Nothing is stored or queued.
 */
export class RecipientOptedOutError extends AppError {
  readonly code = 'recipient_opted_out';
  readonly status = 422;
  readonly title = 'Recipient opted out';
}
