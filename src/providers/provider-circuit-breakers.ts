import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  handleWhen,
  type IHalfOpenAfterBackoffContext,
} from 'cockatiel';
import { ProviderDeferredError, ProviderRejectedError, ProviderUnavailableError } from '../common/errors/provider-errors';
import { appConfig } from '../config/app.config';

/** How long a delivery waits when its provider's circuit is half-open (one test call in flight), ms. */
const HALF_OPEN_DEFER_MS = 1_000;

interface Circuit {
  policy: CircuitBreakerPolicy;
  /** When the open circuit lets its next test call through, ms since the epoch. */
  halfOpenAt: number;
  /** Set by cockatiel's half-open event, right before it runs the test call; read (and cleared) by that call. */
  testing: boolean;
}

/** What a guarded call ended with; an answer that is not a success is carried out of the policy as a value. */
type Outcome<T> = { ok: true; value: T } | { ok: false; answer: ProviderRejectedError | ProviderUnavailableError };

/**
 * A test call that never reached the provider: the gate deferred it (pause, pacing) or
 * it failed on our side. Handled as a failure so that cockatiel does not close the
 * circuit on it (it counts unhandled errors as successes); the circuit opens again only
 * until `retryAfterMs` has passed, then the next delivery is the test call.
 */
class TestCallNotMade extends Error {
  constructor(readonly cause: unknown, readonly retryAfterMs: number) {
    super('the test call was not made');
  }
}

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
 * The test call is the circuit's probe, carried by an ordinary delivery: it makes one
 * request (no inline retries, `call(true)`); when the provider is still down, the
 * delivery is deferred as `circuit_open`, its request counted as a probe attempt
 * (`probeAttempts`: in the message's attempts, not in its DELIVERY_MAX_ATTEMPTS budget),
 * so that a message is never run out of attempts by being the probe of a long outage. A test call the gate
 * defers (or that fails on our side) neither closes nor fully re-opens the circuit: the
 * next test comes when that deferral ends.
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
   * @param call the delivery; its argument is true when it is the circuit's test call, which must make one request only
   * @returns what `call` returned
   * @throws ProviderDeferredError (`circuit_open`, retryAfterMs = the wait left) without running `call`
   *   while the circuit is open or its test call is in flight, and after a test call that found the provider
   *   still down (its request in `attempts` and in `probeAttempts`)
   * @throws whatever `call` threw otherwise
   */
  async execute<T>(provider: string, call: (test: boolean) => Promise<T>): Promise<T> {
    const circuit = this.circuitOf(provider);
    if (circuit.policy.state === CircuitState.HalfOpen) {
      // cockatiel would make this call wait for the test call; a delivery job must not wait that long.
      throw new ProviderDeferredError('circuit_open', `${provider} circuit is half-open: a test call is in flight`, HALF_OPEN_DEFER_MS);
    }
    let test = false;
    let outcome: Outcome<T>;
    try {
      outcome = await circuit.policy.execute(async (): Promise<Outcome<T>> => {
        test = circuit.testing;
        circuit.testing = false;
        try {
          return { ok: true, value: await call(test) };
        } catch (error) {
          if (isAnswer(error)) return { ok: false, answer: error };
          if (test && !(error instanceof ProviderUnavailableError)) {
            throw new TestCallNotMade(error, error instanceof ProviderDeferredError ? error.retryAfterMs : HALF_OPEN_DEFER_MS);
          }
          throw error;
        }
      });
    } catch (error) {
      if (error instanceof TestCallNotMade) throw error.cause;
      if (test && error instanceof ProviderUnavailableError) {
        throw new ProviderDeferredError(
          'circuit_open',
          `${provider} test call failed (${error.message}); calls resume in ${this.cooldownMs} ms`,
          this.cooldownMs,
          error.attempts,
          error.attempts,
        );
      }
      if (!(error instanceof BrokenCircuitError)) throw error;
      const leftMs = Math.max(0, circuit.halfOpenAt - Date.now());
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
      const created: Circuit = { policy: undefined!, halfOpenAt: 0, testing: false };
      // Open for the cool-down, except after a test call that was not made: until its deferral ends.
      const halfOpenAfter = new DelegateBackoff<IHalfOpenAfterBackoffContext>(({ result }) => {
        const error = 'error' in result ? result.error : undefined;
        const ms = error instanceof TestCallNotMade ? error.retryAfterMs : this.cooldownMs;
        created.halfOpenAt = Date.now() + ms;
        return ms;
      });
      created.policy = circuitBreaker(
        handleWhen((error) => isOutage(error) || error instanceof TestCallNotMade),
        { halfOpenAfter, breaker: new ConsecutiveBreaker(this.failures) },
      );
      created.policy.onHalfOpen(() => (created.testing = true));
      created.policy.onBreak((reason) => {
        const error = 'error' in reason ? reason.error : undefined;
        if (error instanceof TestCallNotMade) {
          this.logger.debug(`${provider} test call not made (${(error.cause as Error)?.message}); next test in ${error.retryAfterMs} ms`);
        } else {
          this.logger.warn(`${provider} circuit opened after ${this.failures} consecutive failures: no calls for ${this.cooldownMs} ms`);
        }
      });
      created.policy.onReset(() => this.logger.log(`${provider} circuit closed: the test call succeeded`));
      circuit = created;
      this.circuits.set(provider, circuit);
    }
    return circuit;
  }
}
