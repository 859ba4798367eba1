import { createHmac } from 'node:crypto';
import type { WebhookRequest } from '../webhook-verifier';
import { signWebhook } from './mock-webhook.signature';
import { MockWebhookVerifier } from './mock-webhook.verifier';

const SECRET = 'whsec-test-1';
const NOW_S = 1_795_960_000;
const BODY = '{"from":"+12015550123","to":"+12015550100","type":"sms","messaging_provider_id":"SM1","body":"hi"}';

function request(headers: Record<string, string | string[]>, body: string | Buffer = BODY, nowS = NOW_S): WebhookRequest {
  return { rawBody: Buffer.from(body), headers, url: 'http://localhost/api/webhooks/sms', receivedAt: new Date(nowS * 1000) };
}

function signed(ts = NOW_S, body: string = BODY, secret = SECRET): Record<string, string> {
  return { 'x-webhook-signature': signWebhook(secret, ts, body), 'x-webhook-timestamp': String(ts) };
}

describe('signWebhook', () => {
  it('is the lowercase hex HMAC-SHA256 of "timestamp.body"', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW_S}.${BODY}`).digest('hex');
    expect(signWebhook(SECRET, NOW_S, BODY)).toBe(expected);
    expect(signWebhook(SECRET, String(NOW_S), Buffer.from(BODY))).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it("agrees with the README's shell recipe (openssl 3.0)", () => {
    // printf '%s.%s' 1795960000 "$BODY" | openssl dgst -sha256 -hmac whsec-test-1 | awk '{print $NF}'
    expect(signWebhook(SECRET, NOW_S, BODY)).toBe('ecf9370e8443666c362e11fa06a684eb6a7fbb88046c0ed1cb7fa7e9a44eb2db');
  });
});

describe('MockWebhookVerifier', () => {
  const verifier = new MockWebhookVerifier(SECRET);

  it('accepts a correct signature, also at the edges of the 5-minute window', () => {
    expect(verifier.verify(request(signed()))).toEqual({ valid: true });
    expect(verifier.verify(request(signed(NOW_S - 300)))).toEqual({ valid: true });
    expect(verifier.verify(request(signed(NOW_S + 300)))).toEqual({ valid: true });
  });

  it('refuses missing headers', () => {
    const { 'x-webhook-signature': signature, 'x-webhook-timestamp': timestamp } = signed();
    expect(verifier.verify(request({}))).toEqual({ valid: false, reason: 'Missing X-Webhook-Signature header' });
    expect(verifier.verify(request({ 'x-webhook-timestamp': timestamp }))).toMatchObject({ valid: false, reason: /Missing X-Webhook-Signature/ });
    expect(verifier.verify(request({ 'x-webhook-signature': signature }))).toMatchObject({ valid: false, reason: /Missing X-Webhook-Timestamp/ });
  });

  it('refuses a signature by another secret, over another body or another timestamp', () => {
    expect(verifier.verify(request(signed(NOW_S, BODY, 'other-secret')))).toMatchObject({ valid: false, reason: /does not match/ });
    expect(verifier.verify(request(signed(NOW_S, BODY.replace('hi', 'hI'))))).toMatchObject({ valid: false, reason: /does not match/ });
    expect(verifier.verify(request({ ...signed(NOW_S), 'x-webhook-timestamp': String(NOW_S - 1) }))).toMatchObject({ valid: false, reason: /does not match/ });
    expect(verifier.verify(request(signed(), `${BODY} `))).toMatchObject({ valid: false, reason: /does not match/ }); // one byte more
  });

  it('refuses timestamps outside the replay window, either way', () => {
    expect(verifier.verify(request(signed(NOW_S - 301)))).toMatchObject({ valid: false, reason: /more than 5 minutes old/ });
    expect(verifier.verify(request(signed(NOW_S + 301)))).toMatchObject({ valid: false, reason: /more than 5 minutes in the future/ });
    expect(verifier.verify(request(signed(0)))).toMatchObject({ valid: false });
  });

  it('refuses malformed values instead of reading them leniently', () => {
    const good = signed();
    for (const timestamp of ['', '1795960000.0', '-1795960000', '1e9', ' 0x6B0B4B40', '1795960000000000']) {
      expect(verifier.verify(request({ ...good, 'x-webhook-timestamp': timestamp }))).toMatchObject({ valid: false });
    }
    const signature = good['x-webhook-signature'];
    for (const bad of [signature.toUpperCase(), `sha256=${signature}`, signature.slice(0, 63), `${signature}0`, `${signature.slice(0, 62)}zz`]) {
      expect(verifier.verify(request({ ...good, 'x-webhook-signature': bad }))).toMatchObject({ valid: false });
    }
  });

  it('refuses a header sent twice', () => {
    const good = signed();
    const twice = [good['x-webhook-signature'], good['x-webhook-signature']];
    expect(verifier.verify(request({ ...good, 'x-webhook-signature': twice }))).toMatchObject({ valid: false, reason: /Missing/ });
  });

  it('needs a secret', () => {
    expect(() => new MockWebhookVerifier('')).toThrow(/secret/);
  });
});
