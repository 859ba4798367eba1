import { SetMetadata } from '@nestjs/common';
import type { Channel } from '../common/channel';

/** Metadata key of {@link WebhookChannels}. */
export const WEBHOOK_CHANNELS = Symbol('WEBHOOK_CHANNELS');

/**
 * Names the channels whose configured providers (SMS_PROVIDER, EMAIL_PROVIDER) call a
 * webhook endpoint; WebhookSignatureGuard checks the request with their verifiers.
 */
export const WebhookChannels = (...channels: Channel[]) => SetMetadata(WEBHOOK_CHANNELS, channels);
