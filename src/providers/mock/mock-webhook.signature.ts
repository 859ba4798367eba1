import { createHmac } from 'node:crypto';

/** Header of the mock providers' webhook signature: lowercase hex HMAC-SHA256 (signWebhook). */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Webhook-Signature';
/** Header of the signed timestamp, Unix seconds. */
export const WEBHOOK_TIMESTAMP_HEADER = 'X-Webhook-Timestamp';
/** How far a signed timestamp may lie from the receiver's clock, either way, before the webhook counts as a replay: 5 minutes. */
export const WEBHOOK_TOLERANCE_S = 300;

/**
 * Signs a webhook the way the mock providers do: the lowercase hex HMAC-SHA256, keyed
 * with `secret` (WEBHOOK_SECRET), of `timestamp + "." + rawBody`. The sender puts it in
 * X-Webhook-Signature and the timestamp in X-Webhook-Timestamp. The same construction
 * as Stripe's and Svix's webhook signatures (a signed timestamp against replays).
 * Shell equivalent:
 * `printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" | awk '{print $NF}'`.
 * @param secret the shared secret (UTF-8)
 * @param timestamp Unix time in whole seconds, as sent in X-Webhook-Timestamp
 * @param rawBody the exact body bytes sent (a string is taken as UTF-8)
 * @returns 64 lowercase hex characters
 */
export function signWebhook(secret: string, timestamp: number | string, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}
