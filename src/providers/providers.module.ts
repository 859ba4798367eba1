import { HttpModule, HttpService } from '@nestjs/axios';
import { Inject, Module, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { applyRetryPolicy } from '../common/http/retry';
import { appConfig, providerRatePerS } from '../config/app.config';
import { MESSAGE_PROVIDERS } from './message-provider';
import { MockEmailProvider } from './mock/mock-email.provider';
import { MockProviderHost } from './mock/mock-provider.host';
import { MockSmsProvider } from './mock/mock-sms.provider';
import { ProviderCircuitBreakers } from './provider-circuit-breakers';
import { ProviderGate } from './provider-gate';
import { ProviderPacer } from './provider-pacer';
import { ProviderPauses } from './provider-pauses';
import { ProviderRegistry } from './provider.registry';

/** Every provider adapter. A new provider is a folder under src/providers/ and one entry here. */
const PROVIDER_ADAPTERS = [MockSmsProvider, MockEmailProvider];

/**
 * The provider port: all adapters under MESSAGE_PROVIDERS, the registry that picks one
 * per channel, the gate that paces, pauses and circuit-breaks calls to them, and the
 * HttpService they share, with the gate's checks and the retries installed once.
 */
@Module({
  // An axios instance per application: the bare HttpModule hands out the process-wide
  // default axios (and register() one instance made at import), on which the interceptors
  // installed below would pile up with every application the process creates (the e2e tests).
  imports: [HttpModule.registerAsync({ useFactory: () => ({}) })],
  providers: [
    MockProviderHost,
    ...PROVIDER_ADAPTERS,
    { provide: MESSAGE_PROVIDERS, useFactory: (...adapters: unknown[]) => adapters, inject: PROVIDER_ADAPTERS },
    ProviderRegistry,
    ProviderPauses,
    ProviderCircuitBreakers,
    {
      provide: ProviderPacer,
      inject: [getDataSourceToken(), appConfig.KEY],
      useFactory: (dataSource: DataSource, config: ConfigType<typeof appConfig>) =>
        ProviderPacer.postgres(dataSource, (provider) => providerRatePerS(config.providerGate, provider)),
    },
    ProviderGate,
  ],
  exports: [ProviderRegistry, ProviderGate],
})
export class ProvidersModule implements OnModuleInit {
  constructor(
    private readonly http: HttpService,
    private readonly gate: ProviderGate,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  onModuleInit(): void {
    const { delivery } = this.config;
    // First the gate: its response interceptor must record a provider pause before axios-retry waits out the same Retry-After.
    this.gate.install(this.http.axiosRef);
    applyRetryPolicy(this.http.axiosRef, {
      retries: delivery.inlineRetries,
      timeoutMs: delivery.timeoutMs,
      retryAfterMaxMs: delivery.retryAfterMaxMs,
      backoffBaseMs: delivery.backoffBaseMs,
      backoffMaxMs: delivery.backoffMaxMs,
    });
  }
}
