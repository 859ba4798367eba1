import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { appConfig } from '../../config/app.config';
import { hostsMockProviders } from '../../config/roles';
import { MockProviderServer, mockProviderOptionsFromEnv } from './mock-provider.server';

/**
 * Where the mock providers are. With ROLE=all and no MOCK_PROVIDER_URL it starts them
 * in this process on MOCK_PROVIDER_PORT (real HTTP); otherwise it points at
 * MOCK_PROVIDER_URL, or at 127.0.0.1:MOCK_PROVIDER_PORT (`npm run start:mock`).
 */
@Injectable()
export class MockProviderHost implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(MockProviderHost.name);
  private server?: MockProviderServer;
  private url: string;

  constructor(@Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>) {
    this.url = config.mockProvider.url ?? `http://127.0.0.1:${config.mockProvider.port}`;
  }

  /** Base URL of the mock providers, without a trailing slash. */
  get baseUrl(): string {
    return this.url.replace(/\/+$/, '');
  }

  async onModuleInit(): Promise<void> {
    if (this.config.mockProvider.url || !hostsMockProviders(this.config.role)) return;
    const usesMock = [this.config.providers.sms, this.config.providers.email].some((name) => name.startsWith('mock-'));
    if (!usesMock) return;
    this.server = new MockProviderServer(mockProviderOptionsFromEnv(process.env));
    const port = await this.server.start(this.config.mockProvider.port, '127.0.0.1');
    this.url = `http://127.0.0.1:${port}`;
    this.logger.log(`Mock providers listening on ${this.url}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
  }
}
