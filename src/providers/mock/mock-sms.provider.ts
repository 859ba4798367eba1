import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { appConfig } from '../../config/app.config';
import { MessageProvider, OutboundMessage, SendOptions, SendResult } from '../message-provider';
import { postToProvider } from '../provider-http';
import type { WebhookVerifier } from '../webhook-verifier';
import { MockProviderHost } from './mock-provider.host';
import { MockWebhookVerifier } from './mock-webhook.verifier';

/** SMS and MMS through the mock provider's `POST /sms`. */
@Injectable()
export class MockSmsProvider implements MessageProvider {
  readonly name = 'mock-sms';
  readonly channel = 'sms' as const;

  /** HMAC-SHA256 signatures with WEBHOOK_SECRET; none (unsigned webhooks) while it is unset. */
  readonly webhookVerifier: WebhookVerifier | null;

  constructor(
    private readonly http: HttpService,
    private readonly host: MockProviderHost,
    @Inject(appConfig.KEY) config: ConfigType<typeof appConfig>,
  ) {
    this.webhookVerifier = config.webhookSecret ? new MockWebhookVerifier(config.webhookSecret) : null;
  }

  async send(message: OutboundMessage, options: SendOptions): Promise<SendResult> {
    const payload = { from: message.from, to: message.to, type: message.type, body: message.body, attachments: message.attachments };
    const { data, attempts } = await postToProvider<{ id: string }>(
      this.http, `${this.host.baseUrl}/sms`, payload, message.idempotencyKey, options.maxAttempts,
    );
    return { providerMessageId: data.id, attempts };
  }
}
