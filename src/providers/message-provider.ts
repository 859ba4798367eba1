import type { Channel, MessageType } from '../common/channel';
import type { WebhookVerifier } from './webhook-verifier';

/** What a provider needs to send one message. Addresses are normalised (E.164, bare email). */
export interface OutboundMessage {
  id: string;
  type: MessageType;
  from: string;
  to: string;
  body: string;
  attachments: string[];
  /** Sent with every attempt (Idempotency-Key header) so a retry cannot send twice. */
  idempotencyKey: string;
}

/** Limits of one `send` call. */
export interface SendOptions {
  /** Requests this call may make, the first included (>= 1). */
  maxAttempts: number;
}

/** The provider accepted the message. */
export interface SendResult {
  providerMessageId: string;
  /** Requests made, the accepted one included. */
  attempts: number;
}

/**
 * The contract every provider adapter implements (one folder per provider under
 * src/providers/). `send` throws ProviderRejectedError for a permanent refusal and
 * ProviderUnavailableError when the message may be retried later; vendor types (such
 * as AxiosError) never leave the adapter.
 */
export interface MessageProvider {
  /** Unique name used in configuration (SMS_PROVIDER, EMAIL_PROVIDER) and stored on messages. */
  readonly name: string;
  /** The channel it carries: `sms` (SMS and MMS) or `email`. */
  readonly channel: Channel;
  send(message: OutboundMessage, options: SendOptions): Promise<SendResult>;
  /**
   * Checks the signature of this provider's webhooks (inbound messages, delivery
   * receipts). Null or absent: its webhooks are accepted unsigned (a warning is logged
   * at start-up).
   */
  readonly webhookVerifier?: WebhookVerifier | null;
}

/** Injection token of the list of all registered providers. */
export const MESSAGE_PROVIDERS = Symbol('MESSAGE_PROVIDERS');
