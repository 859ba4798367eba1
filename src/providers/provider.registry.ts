import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Channel } from '../common/channel';
import { appConfig } from '../config/app.config';
import { MESSAGE_PROVIDERS, MessageProvider } from './message-provider';

/**
 * Picks the provider for a channel from configuration (SMS_PROVIDER, EMAIL_PROVIDER)
 * among all registered providers.
 */
@Injectable()
export class ProviderRegistry implements OnModuleInit {
  constructor(
    @Inject(MESSAGE_PROVIDERS) private readonly providers: MessageProvider[],
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  /** Fails start-up when configuration names a provider that is not registered. */
  onModuleInit(): void {
    this.forChannel('sms');
    this.forChannel('email');
  }

  /**
   * @returns the configured provider of `channel`
   * @throws Error when the configured name matches no registered provider of that channel
   */
  forChannel(channel: Channel): MessageProvider {
    const name = this.config.providers[channel];
    const provider = this.providers.find((p) => p.name === name && p.channel === channel);
    if (!provider) {
      const known = this.providers.filter((p) => p.channel === channel).map((p) => p.name);
      throw new Error(`No ${channel} provider named "${name}" is registered (known: ${known.join(', ')})`);
    }
    return provider;
  }
}
