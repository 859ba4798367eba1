import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { type Channel, CHANNELS } from '../common/channel';
import { ProviderRegistry } from '../providers/provider.registry';
import type { WebhookRequest, WebhookVerdict, WebhookVerifier } from '../providers/webhook-verifier';

/**
 * Checks webhook signatures with the verifier of the provider configured for each
 * channel (MessageProvider.webhookVerifier). A provider without a verifier takes its
 * webhooks unsigned, which is logged as a warning at start-up.
 */
@Injectable()
export class WebhookSignatures implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookSignatures.name);

  constructor(private readonly providers: ProviderRegistry) {}

  /** Warns once per configured provider whose webhooks are not signature-checked. */
  onApplicationBootstrap(): void {
    for (const channel of CHANNELS) {
      const provider = this.providers.forChannel(channel);
      if (!provider.webhookVerifier) {
        const hint = provider.name.startsWith('mock-') ? ' (WEBHOOK_SECRET is not set)' : '';
        this.logger.warn(`Webhooks of ${provider.name} (${channel}) are accepted unsigned${hint}: anyone who can reach them can post messages and receipts`);
      }
    }
  }

  /**
   * Checks a webhook request against the providers configured for `channels`. With no
   * verifier among them the request passes unsigned. Otherwise one of the verifiers must
   * accept it (an endpoint several providers call, such as delivery receipts, takes a
   * request any of them signed; a provider without a verifier then cannot call it).
   * @returns the verdict: valid, or invalid with the first verifier's reason
   */
  verify(channels: readonly Channel[], request: WebhookRequest): WebhookVerdict {
    const verifiers = new Set<WebhookVerifier>();
    for (const channel of new Set(channels)) {
      const verifier = this.providers.forChannel(channel).webhookVerifier;
      if (verifier) verifiers.add(verifier);
    }
    let refusal: WebhookVerdict | undefined;
    for (const verifier of verifiers) {
      const verdict = verifier.verify(request);
      if (verdict.valid) return verdict;
      refusal ??= verdict;
    }
    return refusal ?? { valid: true };
  }
}
