import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { type AxiosInstance, isAxiosError } from 'axios';
import { ProviderDeferredError } from '../common/errors/provider-errors';
import { appConfig } from '../config/app.config';
import type { MessageProvider, OutboundMessage, SendOptions, SendResult } from './message-provider';
import { ProviderCircuitBreakers } from './provider-circuit-breakers';
import { PAUSE_WAIT_INLINE_MAX_MS } from './provider-gate-waits';
import { ProviderPacer } from './provider-pacer';
import { pauseMsFor, type ProviderPause, ProviderPauses } from './provider-pauses';

/** The provider call a request belongs to. */
interface ProviderCall {
  provider: string;
}

/**
 * Decides when a provider may be called, for every request a delivery makes (inline
 * retries included):
 * - circuit breaker per provider and process (ProviderCircuitBreakers): an open
 *   circuit defers the delivery for the cool-down left;
 * - provider-wide pause (ProviderPauses, shared by all processes): a 429 or 503 with
 *   Retry-After pauses the provider; a request that meets a pause waits for its end
 *   when that is at most PAUSE_WAIT_INLINE_MAX_MS away, otherwise the delivery is deferred.
 *   The process that got the answer also keeps the pause in memory, so that its own
 *   requests stop at once, before the table is written;
 * - pacing (ProviderPacer, shared by all processes): a request takes a rate slot of its
 *   provider first, or the delivery is deferred when none comes within about a second.
 * A deferral is a ProviderDeferredError: the message goes back to `queued` and no
 * attempt is counted for the request that was not made.
 *
 * The per-request part runs in interceptors on the axios instance all adapters share
 * (install()); they know which provider a request is for from the call send() runs
 * the adapter in (AsyncLocalStorage), so adapters need not pass anything along.
 */
@Injectable()
export class ProviderGate {
  private readonly logger = new Logger(ProviderGate.name);
  private readonly calls = new AsyncLocalStorage<ProviderCall>();
  /** Pauses this process recorded, by provider: until when (ms since the epoch) and why. */
  private readonly localPauses = new Map<string, { until: number; reason: string }>();

  constructor(
    private readonly pacer: ProviderPacer,
    private readonly pauses: ProviderPauses,
    private readonly breakers: ProviderCircuitBreakers,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  /**
   * Sends `message` through `provider` behind its circuit breaker, with every request
   * of the call paced and checked for a pause (see install()). The circuit's test call
   * (ProviderCircuitBreakers) is sent with `maxAttempts` 1.
   * @returns the provider's result
   * @throws ProviderDeferredError when the circuit is open, or a request met a long pause or found no rate slot
   * @throws ProviderRejectedError, ProviderUnavailableError as the provider's `send` does
   */
  send(provider: MessageProvider, message: OutboundMessage, options: SendOptions): Promise<SendResult> {
    // The circuit's test call makes one request: it probes the provider, it does not deliver at any cost.
    return this.breakers.execute(provider.name, (test) =>
      this.calls.run({ provider: provider.name }, () => provider.send(message, test ? { ...options, maxAttempts: 1 } : options)),
    );
  }

  /**
   * Installs the per-request checks on `axios` (the providers' HttpService instance).
   * Call it BEFORE applyRetryPolicy(): axios runs response interceptors in the order
   * they were added, and a pause must be recorded before axios-retry waits out the
   * Retry-After of the same answer (request interceptors run in reverse order, so the
   * admission check then runs after axios-retry's, on every retry too).
   */
  install(axios: AxiosInstance): void {
    axios.interceptors.request.use(async (config) => {
      const call = this.calls.getStore();
      if (call) await this.admit(call.provider, config['axios-retry']?.retryCount ?? 0);
      return config;
    });
    axios.interceptors.response.use(undefined, async (error: unknown) => {
      const call = this.calls.getStore();
      if (call && isAxiosError(error) && error.response) {
        await this.observe(call.provider, error.response.status, error.response.headers?.['retry-after']);
      }
      throw error;
    });
  }

  /**
   * Lets one request to `provider` go: waits out a short pause, then takes a rate slot.
   * @param attemptsMade requests the current call already made (for the deferral's `attempts`)
   * @throws ProviderDeferredError (`provider_paused`, `rate_limited`) when the request must not be made now
   */
  async admit(provider: string, attemptsMade: number): Promise<void> {
    const deadline = Date.now() + PAUSE_WAIT_INLINE_MAX_MS;
    for (;;) {
      const pause = await this.pauseOf(provider);
      if (pause.remainingMs === 0) break;
      if (Date.now() + pause.remainingMs > deadline) throw this.paused(provider, pause, attemptsMade);
      await new Promise((resolve) => setTimeout(resolve, pause.remainingMs));
    }
    if (!this.pacer.paces(provider)) return;
    const slot = await this.pacer.take(provider);
    if (!slot.taken) {
      throw new ProviderDeferredError('rate_limited', `no ${provider} rate slot came free within about a second`, slot.retryAfterMs, attemptsMade);
    }
    // Another delivery may have met a 429 while this one queued for its slot: the pause wins,
    // and waiting it out here would send with a stale slot, bunched with other waiters.
    const pause = await this.pauseOf(provider);
    if (pause.remainingMs > 0) throw this.paused(provider, pause, attemptsMade);
  }

  /**
   * Records a provider-wide pause when `provider` answered 429/503 with Retry-After
   * (pauseMsFor, capped at DELIVERY_DEFER_MAX_S). A failure to record it is logged, not thrown:
   * the answer itself is still handled by the retry policy.
   * @param retryAfter the answer's Retry-After header value
   */
  async observe(provider: string, status: number, retryAfter: unknown): Promise<void> {
    const ms = pauseMsFor(status, retryAfter, this.config.delivery.deferMaxMs);
    if (ms === undefined) return;
    const reason = `${status} with Retry-After: ${String(retryAfter)}`;
    const local = this.localPauses.get(provider);
    if (!local || local.until < Date.now() + ms) this.localPauses.set(provider, { until: Date.now() + ms, reason });
    try {
      await this.pauses.pause(provider, ms, reason);
    } catch (error) {
      this.logger.warn(`Could not record the pause of ${provider}: ${(error as Error).message}`);
    }
  }

  /** The longer of the provider's shared pause and the one this process recorded. */
  private async pauseOf(provider: string): Promise<ProviderPause> {
    const shared = await this.pauses.remaining(provider);
    const local = this.localPauses.get(provider);
    const localMs = local ? Math.max(0, Math.ceil(local.until - Date.now())) : 0;
    return localMs > shared.remainingMs ? { remainingMs: localMs, reason: local!.reason } : shared;
  }

  private paused(provider: string, pause: ProviderPause, attemptsMade: number): ProviderDeferredError {
    return new ProviderDeferredError(
      'provider_paused',
      `${provider} is paused for ${pause.remainingMs} ms more (it answered ${pause.reason})`,
      pause.remainingMs,
      attemptsMade,
    );
  }
}
