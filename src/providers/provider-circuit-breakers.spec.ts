import { Logger } from '@nestjs/common';
import { CircuitState } from 'cockatiel';
import { ProviderDeferredError, ProviderRejectedError, ProviderUnavailableError } from '../common/errors/provider-errors';
import { loadAppConfig } from '../config/app.config';
import { ProviderCircuitBreakers } from './provider-circuit-breakers';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A provider call that records how often it ran and ends as told. */
class FakeCall {
  runs = 0;
  constructor(private readonly outcome: () => Promise<string>) {}
  readonly run = (): Promise<string> => {
    this.runs++;
    return this.outcome();
  };
}

const unavailable = () => new FakeCall(() => Promise.reject(new ProviderUnavailableError('provider answered 503', 1, undefined, 503)));
const rejected = () => new FakeCall(() => Promise.reject(new ProviderRejectedError('invalid number', 1)));
const accepted = () => new FakeCall(() => Promise.resolve('mock-1'));

function breakers(failures: number, cooldownMs: number): ProviderCircuitBreakers {
  return new ProviderCircuitBreakers(
    loadAppConfig({ PROVIDER_CIRCUIT_FAILURES: String(failures), PROVIDER_CIRCUIT_COOLDOWN_MS: String(cooldownMs) }),
  );
}

describe('ProviderCircuitBreakers', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('opens after N consecutive unavailable calls and then defers without calling, for the cool-down left', async () => {
    const circuits = breakers(3, 10_000);
    const failing = unavailable();
    for (let i = 0; i < 3; i++) await expect(circuits.execute('p', failing.run)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(circuits.stateOf('p')).toBe(CircuitState.Open);

    const next = accepted();
    const deferral = await circuits.execute('p', next.run).catch((e: unknown) => e);
    expect(deferral).toBeInstanceOf(ProviderDeferredError);
    expect(deferral).toMatchObject({ code: 'circuit_open', attempts: 0 });
    expect((deferral as ProviderDeferredError).retryAfterMs).toBeGreaterThan(9_000);
    expect((deferral as ProviderDeferredError).retryAfterMs).toBeLessThanOrEqual(10_000);
    expect(next.runs).toBe(0);
  });

  it('keeps one circuit per provider', async () => {
    const circuits = breakers(2, 10_000);
    const failing = unavailable();
    for (let i = 0; i < 2; i++) await circuits.execute('sms', failing.run).catch(() => undefined);
    expect(circuits.stateOf('sms')).toBe(CircuitState.Open);
    await expect(circuits.execute('email', accepted().run)).resolves.toBe('mock-1');
    expect(circuits.stateOf('email')).toBe(CircuitState.Closed);
  });

  it('is not tripped by permanent refusals (ProviderRejectedError), which pass through unchanged', async () => {
    const circuits = breakers(2, 10_000);
    const refusing = rejected();
    for (let i = 0; i < 10; i++) await expect(circuits.execute('p', refusing.run)).rejects.toBeInstanceOf(ProviderRejectedError);
    expect(refusing.runs).toBe(10);
    expect(circuits.stateOf('p')).toBe(CircuitState.Closed);
  });

  it('counts a refusal as proof that the provider answers: failures must be consecutive to open it', async () => {
    const circuits = breakers(2, 10_000);
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    await circuits.execute('p', rejected().run).catch(() => undefined);
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    expect(circuits.stateOf('p')).toBe(CircuitState.Closed);
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    expect(circuits.stateOf('p')).toBe(CircuitState.Open);
  });

  it('is not tripped by 429 answers (the provider is busy, not down): they pass through unchanged', async () => {
    const circuits = breakers(2, 10_000);
    const limited = new FakeCall(() => Promise.reject(new ProviderUnavailableError('provider answered 429', 3, 1_000, 429)));
    for (let i = 0; i < 5; i++) await expect(circuits.execute('p', limited.run)).rejects.toMatchObject({ status: 429 });
    expect(circuits.stateOf('p')).toBe(CircuitState.Closed);
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    await circuits.execute('p', limited.run).catch(() => undefined);
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    expect(circuits.stateOf('p')).toBe(CircuitState.Closed);
  });

  it('does not count deferrals by the gate (neither failure nor success)', async () => {
    const circuits = breakers(2, 10_000);
    const deferred = new FakeCall(() => Promise.reject(new ProviderDeferredError('provider_paused', 'paused', 500)));
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    await expect(circuits.execute('p', deferred.run)).rejects.toMatchObject({ code: 'provider_paused' });
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    expect(circuits.stateOf('p')).toBe(CircuitState.Open);
  });

  it('lets one test call through after the cool-down: success closes it, and calls meanwhile are deferred', async () => {
    const circuits = breakers(1, 50);
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    await sleep(70);
    let finish!: (value: string) => void;
    const probe = new FakeCall(() => new Promise<string>((resolve) => (finish = resolve)));
    const probing = circuits.execute('p', probe.run);
    expect(circuits.stateOf('p')).toBe(CircuitState.HalfOpen);
    const meanwhile = accepted();
    await expect(circuits.execute('p', meanwhile.run)).rejects.toMatchObject({ code: 'circuit_open' });
    expect(meanwhile.runs).toBe(0);
    finish('mock-probe');
    await expect(probing).resolves.toBe('mock-probe');
    expect(circuits.stateOf('p')).toBe(CircuitState.Closed);
  });

  it('opens again for another cool-down when the test call fails, deferring its delivery with its request as a probe attempt', async () => {
    const circuits = breakers(1, 50);
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    await sleep(70);
    const deferral = await circuits.execute('p', unavailable().run).catch((e: unknown) => e);
    expect(deferral).toBeInstanceOf(ProviderDeferredError);
    expect(deferral).toMatchObject({ code: 'circuit_open', attempts: 1, probeAttempts: 1, retryAfterMs: 50 });
    expect((deferral as Error).message).toMatch(/test call failed \(provider answered 503\)/);
    expect(circuits.stateOf('p')).toBe(CircuitState.Open);
    await expect(circuits.execute('p', accepted().run)).rejects.toMatchObject({ code: 'circuit_open' });
  });

  it('tells only the test call that it is one (so that it makes a single request)', async () => {
    const circuits = breakers(1, 50);
    const seen: boolean[] = [];
    const failing = (test: boolean) => (seen.push(test), Promise.reject(new ProviderUnavailableError('down', 1, undefined, 503)));
    await circuits.execute('p', failing).catch(() => undefined);
    await sleep(70);
    await circuits.execute('p', (test) => (seen.push(test), Promise.resolve('ok')));
    await circuits.execute('p', (test) => (seen.push(test), Promise.resolve('ok')));
    expect(seen).toEqual([false, true, false]);
  });

  it('neither closes nor fully re-opens on a test call that the gate deferred: the next test comes after that deferral', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const circuits = breakers(1, 10_000);
      await circuits.execute('p', unavailable().run).catch(() => undefined);
      jest.setSystemTime(1_010_001); // the cool-down is over: the next call is the test call
      const paused = new FakeCall(() => Promise.reject(new ProviderDeferredError('provider_paused', 'paused', 400)));
      await expect(circuits.execute('p', paused.run)).rejects.toMatchObject({ code: 'provider_paused', retryAfterMs: 400 });
      expect(paused.runs).toBe(1);
      expect(circuits.stateOf('p')).toBe(CircuitState.Open);
      jest.setSystemTime(1_010_300);
      await expect(circuits.execute('p', accepted().run)).rejects.toMatchObject({ code: 'circuit_open', retryAfterMs: 101 });
      jest.setSystemTime(1_010_402); // the deferral is over (not another 10 s cool-down)
      const probe = accepted();
      await expect(circuits.execute('p', probe.run)).resolves.toBe('mock-1');
      expect(probe.runs).toBe(1);
      expect(circuits.stateOf('p')).toBe(CircuitState.Closed);
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not close on a test call that failed on our side (e.g. the database): the error passes through', async () => {
    const circuits = breakers(1, 50);
    await circuits.execute('p', unavailable().run).catch(() => undefined);
    await sleep(70);
    const ours = new FakeCall(() => Promise.reject(new Error('connection terminated')));
    await expect(circuits.execute('p', ours.run)).rejects.toThrow('connection terminated');
    expect(circuits.stateOf('p')).toBe(CircuitState.Open);
  });
});
