import type { IncomingHttpHeaders } from 'node:http';

/** A webhook request as a signature scheme sees it, before its body is validated or used. */
export interface WebhookRequest {
  /** The exact body bytes received (after any Content-Encoding is undone); empty when there was none. */
  rawBody: Buffer;
  /** The request headers, names in lower case. */
  headers: IncomingHttpHeaders;
  /** The URL the provider called, as the public sees it (publicUrlOf: X-Forwarded-* behind a trusted proxy). */
  url: string;
  /** When the request is checked; schemes with a replay window compare their timestamp with it. */
  receivedAt: Date;
}

/** A verifier's verdict: accepted, or refused with a reason the 401 answer names. */
export type WebhookVerdict = { valid: true } | { valid: false; reason: string };

/**
 * How one provider signs its webhooks (inbound messages and delivery receipts). A
 * provider adapter that signs its webhooks supplies one as its `webhookVerifier`
 * (MessageProvider); the webhook endpoints ask the verifier of the provider configured
 * for their channel, so a new scheme is one more implementation, nothing else changes.
 * Examples: the mock providers' HMAC-SHA256 of `timestamp.body`
 * (src/providers/mock/mock-webhook.verifier.ts); Twilio's X-Twilio-Signature, base64
 * HMAC-SHA1 of the public URL followed by the sorted POST parameters
 * (https://www.twilio.com/docs/usage/security#validating-requests), would read `url`
 * and parse the parameters from `rawBody`.
 *
 * Implementations must be synchronous, side-effect free, and compare secrets in
 * constant time (crypto.timingSafeEqual); a missing header is a refusal, never a pass.
 */
export interface WebhookVerifier {
  verify(request: WebhookRequest): WebhookVerdict;
}
