import { timingSafeEqual } from 'node:crypto';
import type { WebhookRequest, WebhookVerdict, WebhookVerifier } from '../webhook-verifier';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_TOLERANCE_S } from './mock-webhook.signature';

const SIGNATURE = /^[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,12}$/;

/** @returns the single value of header `name`, or undefined when it is absent or repeated */
function single(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return typeof value === 'string' ? value.trim() : undefined;
}

/**
 * The mock providers' webhook signature (signWebhook): X-Webhook-Signature must be the
 * lowercase hex HMAC-SHA256 with the shared secret of `X-Webhook-Timestamp + "." +
 * raw body`, and the timestamp (Unix seconds) within {@link WEBHOOK_TOLERANCE_S} of
 * the receiver's clock, either way (an older one is a replay, a later one was never
 * sent by a provider with a sane clock). The digests are compared in constant time.
 */
export class MockWebhookVerifier implements WebhookVerifier {
  /** @param secret WEBHOOK_SECRET, not empty */
  constructor(private readonly secret: string) {
    if (!secret) throw new Error('MockWebhookVerifier needs a secret');
  }

  verify(request: WebhookRequest): WebhookVerdict {
    const signature = single(request, WEBHOOK_SIGNATURE_HEADER);
    const timestamp = single(request, WEBHOOK_TIMESTAMP_HEADER);
    if (signature === undefined) return { valid: false, reason: `Missing ${WEBHOOK_SIGNATURE_HEADER} header` };
    if (timestamp === undefined) return { valid: false, reason: `Missing ${WEBHOOK_TIMESTAMP_HEADER} header` };
    if (!TIMESTAMP.test(timestamp)) return { valid: false, reason: `${WEBHOOK_TIMESTAMP_HEADER} must be Unix time in whole seconds` };
    const ageS = request.receivedAt.getTime() / 1000 - Number(timestamp);
    if (Math.abs(ageS) > WEBHOOK_TOLERANCE_S) {
      return { valid: false, reason: `${WEBHOOK_TIMESTAMP_HEADER} is more than ${WEBHOOK_TOLERANCE_S / 60} minutes ${ageS > 0 ? 'old' : 'in the future'}` };
    }
    if (!SIGNATURE.test(signature)) return { valid: false, reason: `${WEBHOOK_SIGNATURE_HEADER} must be 64 lowercase hex characters` };
    const expected = Buffer.from(signWebhook(this.secret, timestamp, request.rawBody), 'hex');
    if (!timingSafeEqual(Buffer.from(signature, 'hex'), expected)) {
      return { valid: false, reason: `${WEBHOOK_SIGNATURE_HEADER} does not match the body and timestamp` };
    }
    return { valid: true };
  }
}
