import type { Channel } from '../common/channel';
import type { MessageProvider } from '../providers/message-provider';
import type { ProviderRegistry } from '../providers/provider.registry';
import type { WebhookRequest, WebhookVerifier } from '../providers/webhook-verifier';
import { WebhookSignatures } from './webhook-signatures.service';

/** A verifier that accepts requests carrying `x-key: <key>` and records what it saw. */
class KeyVerifier implements WebhookVerifier {
  readonly seen: WebhookRequest[] = [];
  constructor(private readonly key: string) {}
  verify(request: WebhookRequest) {
    this.seen.push(request);
    return request.headers['x-key'] === this.key ? ({ valid: true } as const) : ({ valid: false, reason: `not ${this.key}` } as const);
  }
}

function signatures(verifiers: Record<Channel, WebhookVerifier | null>): WebhookSignatures {
  const registry = {
    forChannel: (channel: Channel) => ({ name: `p-${channel}`, channel, webhookVerifier: verifiers[channel] }) as unknown as MessageProvider,
  } as ProviderRegistry;
  return new WebhookSignatures(registry);
}

const request = (headers: Record<string, string>): WebhookRequest => ({ rawBody: Buffer.alloc(0), headers, url: 'http://h/api/webhooks/x', receivedAt: new Date() });

describe('WebhookSignatures.verify', () => {
  it("asks the verifier of the endpoint's channel only", () => {
    const sms = new KeyVerifier('s');
    const email = new KeyVerifier('e');
    const checks = signatures({ sms, email });
    expect(checks.verify(['sms'], request({ 'x-key': 's' }))).toEqual({ valid: true });
    expect(checks.verify(['sms'], request({ 'x-key': 'e' }))).toEqual({ valid: false, reason: 'not s' });
    expect(checks.verify(['email'], request({ 'x-key': 'e' }))).toEqual({ valid: true });
    expect(email.seen).toHaveLength(1);
  });

  it('passes unsigned requests when no provider of the channels has a verifier', () => {
    const checks = signatures({ sms: null, email: null });
    expect(checks.verify(['sms'], request({}))).toEqual({ valid: true });
    expect(checks.verify(['sms', 'email'], request({}))).toEqual({ valid: true });
  });

  it('on a shared endpoint takes a request either provider signed, and refuses unsigned ones once one of them signs', () => {
    const checks = signatures({ sms: new KeyVerifier('s'), email: new KeyVerifier('e') });
    expect(checks.verify(['sms', 'email'], request({ 'x-key': 'e' }))).toEqual({ valid: true });
    expect(checks.verify(['sms', 'email'], request({}))).toEqual({ valid: false, reason: 'not s' });
    const mixed = signatures({ sms: null, email: new KeyVerifier('e') });
    expect(mixed.verify(['sms', 'email'], request({}))).toEqual({ valid: false, reason: 'not e' });
    expect(mixed.verify(['sms'], request({}))).toEqual({ valid: true });
  });

  it('asks a verifier two channels share once', () => {
    const shared = new KeyVerifier('k');
    expect(signatures({ sms: shared, email: shared }).verify(['sms', 'email'], request({}))).toEqual({ valid: false, reason: 'not k' });
    expect(shared.seen).toHaveLength(1);
  });
});
