import { HttpModule, HttpService } from '@nestjs/axios';
import { Inject, Module, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { applyRetryPolicy } from '../common/http/retry';
import { appConfig } from '../config/app.config';
import { MESSAGE_PROVIDERS } from './message-provider';
import { MockEmailProvider } from './mock/mock-email.provider';
import { MockProviderHost } from './mock/mock-provider.host';
import { MockSmsProvider } from './mock/mock-sms.provider';
import { ProviderRegistry } from './provider.registry';

/** Every provider adapter. A new provider is a folder under src/providers/ and one entry here. */
const PROVIDER_ADAPTERS = [MockSmsProvider, MockEmailProvider];

/**
 * The provider port: all adapters under MESSAGE_PROVIDERS, the registry that picks one
 * per channel, and the HttpService they share, with retries installed once.
 */
@Module({
  imports: [HttpModule],
  providers: [
    MockProviderHost,
    ...PROVIDER_ADAPTERS,
    { provide: MESSAGE_PROVIDERS, useFactory: (...adapters: unknown[]) => adapters, inject: PROVIDER_ADAPTERS },
    ProviderRegistry,
  ],
  exports: [ProviderRegistry],
})
export class ProvidersModule implements OnModuleInit {
  constructor(
    private readonly http: HttpService,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  onModuleInit(): void {
    const { delivery } = this.config;
    applyRetryPolicy(this.http.axiosRef, {
      retries: delivery.inlineRetries,
      timeoutMs: delivery.timeoutMs,
      retryAfterMaxMs: delivery.retryAfterMaxMs,
      backoffBaseMs: delivery.backoffBaseMs,
      backoffMaxMs: delivery.backoffMaxMs,
    });
  }
}
