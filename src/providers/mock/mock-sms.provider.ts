import { HttpService } from '@nestjs/axios';
import { Injectable } from '@nestjs/common';
import { MessageProvider, OutboundMessage, SendOptions, SendResult } from '../message-provider';
import { postToProvider } from '../provider-http';
import { MockProviderHost } from './mock-provider.host';

/** SMS and MMS through the mock provider's `POST /sms`. */
@Injectable()
export class MockSmsProvider implements MessageProvider {
  readonly name = 'mock-sms';
  readonly channel = 'sms' as const;

  constructor(
    private readonly http: HttpService,
    private readonly host: MockProviderHost,
  ) {}

  async send(message: OutboundMessage, options: SendOptions): Promise<SendResult> {
    const payload = { from: message.from, to: message.to, type: message.type, body: message.body, attachments: message.attachments };
    const { data, attempts } = await postToProvider<{ id: string }>(
      this.http, `${this.host.baseUrl}/sms`, payload, message.idempotencyKey, options.maxAttempts,
    );
    return { providerMessageId: data.id, attempts };
  }
}
