import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
} from 'cockatiel';
import { ProviderDeferredError, ProviderRejectedError, ProviderUnavailableError } from '../common/errors/provider-errors';
import { appConfig } from '../config/app.config';

/** How long a delivery waits when its provider's circuit is half-open (one test call in flight), ms. */
const HALF_OPEN_DEFER_MS = 1_000;

interface Circuit {
  policy: CircuitBreakerPolicy;
  /** When the circuit last opened, ms since the epoch. */
  openedAt: number;
}

/** What a guarded call ended with; an answer that is not a success is carried out of the policy as a value. */
type Outcome<T> = { ok: true; value: T } | { ok: false; answer: ProviderRejectedError | ProviderUnavailableError };

/** Failures that count towards opening a circuit: the provider did not answer, or answered 5xx/408. */
function isOutage(error: Error): boolean {
  return error instanceof ProviderUnavailableError && !error.rateLimited;
}

/** Answers that prove the provider is up: a permanent refusal (4xx) or a 429 (it is busy, not down). */
function isAnswer(error: unknown): error is ProviderRejectedError | ProviderUnavailableError {
  return error instanceof ProviderRejectedError || (error instanceof ProviderUnavailableError && error.rateLimited);
}

/**
 * One circuit breaker per provider (cockatiel), in this process: after
 * PROVIDER_CIRCUIT_FAILURES consecutive calls ended in ProviderUnavailableError, calls
 * to that provider stop for PROVIDER_CIRCUIT_COOLDOWN_MS; then one test call decides
 * whether the circuit closes again or stays open for another cool-down.
 *
 * Counting: a ProviderUnavailableError (network error, timeout, 408, 5xx) is a failure;
 * a ProviderRejectedError (a permanent 4xx) or a 429 proves the provider answers, so it
 * counts as a success (a 429 pauses the provider for its Retry-After instead, see
 * ProviderGate); any other error (a deferral by the gate, a database error of ours)
 * counts as neither.
 *
 * State is per process (each worker process learns on its own that a provider is
 * down, after its own N failures); the provider-wide, cross-process signal is the
 * pause of ProviderPauses.
 */
@Injectable()
export class ProviderCircuitBreakers {
  private readonly logger = new Logger(ProviderCircuitBreakers.name);
  private readonly circuits = new Map<string, Circuit>();
  private readonly failures: number;
  private readonly cooldownMs: number;

  constructor(@Inject(appConfig.KEY) config: ConfigType<typeof appConfig>) {
    this.failures = config.providerGate.circuitFailures;
    this.cooldownMs = config.providerGate.circuitCooldownMs;
  }

  /**
   * Runs `call` (one delivery to `provider`) through the provider's circuit.
   * @returns what `call` returned
   * @throws ProviderDeferredError (`circuit_open`, retryAfterMs = the cool-down left) without running `call`
   *   while the circuit is open or its test call is in flight
   * @throws whatever `call` threw
   */
  async execute<T>(provider: string, call: () => Promise<T>): Promise<T> {
    const circuit = this.circuitOf(provider);
    if (circuit.policy.state === CircuitState.HalfOpen) {
      // cockatiel would make this call wait for the test call; a delivery job must not wait that long.
      throw new ProviderDeferredError('circuit_open', `${provider} circuit is half-open: a test call is in flight`, HALF_OPEN_DEFER_MS);
    }
    let outcome: Outcome<T>;
    try {
      outcome = await circuit.policy.execute(async (): Promise<Outcome<T>> => {
        try {
          return { ok: true, value: await call() };
        } catch (error) {
          if (isAnswer(error)) return { ok: false, answer: error };
          throw error;
        }
      });
    } catch (error) {
      if (!(error instanceof BrokenCircuitError)) throw error;
      const leftMs = Math.max(0, circuit.openedAt + this.cooldownMs - Date.now());
      throw new ProviderDeferredError(
        'circuit_open',
        `${provider} circuit is open after ${this.failures} consecutive failures; calls resume in ${leftMs} ms`,
        leftMs || HALF_OPEN_DEFER_MS,
      );
    }
    if (!outcome.ok) throw outcome.answer;
    return outcome.value;
  }

  /** @returns the circuit state of `provider` (Closed until it is first used) */
  stateOf(provider: string): CircuitState {
    return this.circuits.get(provider)?.policy.state ?? CircuitState.Closed;
  }

  private circuitOf(provider: string): Circuit {
    let circuit = this.circuits.get(provider);
    if (!circuit) {
      const policy = circuitBreaker(
        handleWhen(isOutage),
        { halfOpenAfter: this.cooldownMs, breaker: new ConsecutiveBreaker(this.failures) },
      );
      const created: Circuit = { policy, openedAt: 0 };
      policy.onBreak(() => {
        created.openedAt = Date.now();
        this.logger.warn(`${provider} circuit opened after ${this.failures} consecutive failures: no calls for ${this.cooldownMs} ms`);
      });
      policy.onReset(() => this.logger.log(`${provider} circuit closed: the test call succeeded`));
      circuit = created;
      this.circuits.set(provider, circuit);
    }
    return circuit;
  }
}
