import { gateWaitPerRequestMs } from '../providers/provider-gate-waits';
import { deliveryJobBudgetMs, loadAppConfig, providerEnvSuffix, providerRatePerS, Role } from './app.config';

describe('loadAppConfig', () => {
  it('applies the defaults of design.md', () => {
    const config = loadAppConfig({});
    expect(config).toMatchObject({ port: 8000, role: Role.All, databaseUrl: undefined, defaultRegion: 'US' });
    expect(config.mockProvider).toEqual({ port: 8001, url: undefined });
    expect(config.delivery).toMatchObject({ maxAttempts: 8, timeoutMs: 10_000 });
  });

  it('derives the job expiry from the longest a delivery job can take', () => {
    const config = loadAppConfig({});
    const budgetS = Math.ceil(deliveryJobBudgetMs(2, 10_000, 10_000, 200, 60_000, gateWaitPerRequestMs(0)) / 1000);
    expect(budgetS).toBe(53); // 3 attempts x (10 s + 1 s of provider pause wait) + 2 waits x 10 s
    expect(config.delivery.jobExpireSeconds).toBe(budgetS + 10);
  });

  it('refuses a job expiry a legitimate job could outlast (a second copy would run beside it)', () => {
    expect(() => loadAppConfig({ DELIVERY_JOB_EXPIRE_S: '30' })).toThrow(/DELIVERY_JOB_EXPIRE_S \(30\) must exceed .*53 s/);
    expect(loadAppConfig({ DELIVERY_JOB_EXPIRE_S: '54' }).delivery.jobExpireSeconds).toBe(54);
  });

  it('names every invalid variable', () => {
    expect(() => loadAppConfig({ PORT: 'abc', ROLE: 'boss' })).toThrow(/PORT.*ROLE|ROLE.*PORT/);
  });

  it('reads API_KEYS as a trimmed list', () => {
    expect(loadAppConfig({ API_KEYS: ' k1, ,k2 ' }).apiKeys).toEqual(['k1', 'k2']);
  });
});

describe('deliveryJobBudgetMs', () => {
  it('counts every timeout and the longest wait before each inline retry', () => {
    expect(deliveryJobBudgetMs(0, 1_000, 5_000, 100, 60_000)).toBe(1_000);
    // waits: max(500, min(60000, 100)), max(500, 200), max(500, 400), max(500, 800)
    expect(deliveryJobBudgetMs(4, 1_000, 500, 100, 60_000)).toBe(5 * 1_000 + 500 + 500 + 500 + 800);
    // the backoff ceiling bounds the exponential growth
    expect(deliveryJobBudgetMs(3, 0, 0, 1_000, 1_500)).toBe(1_000 + 1_500 + 1_500);
  });
});

describe('provider gate settings', () => {
  it('defaults: no pacing, a circuit opens after 5 failures for 30 s, messages expire after a day', () => {
    const config = loadAppConfig({});
    expect(config.providerGate).toEqual({ ratePerS: 0, ratesPerS: {}, circuitFailures: 5, circuitCooldownMs: 30_000 });
    expect(config.delivery.maxAgeMs).toBe(86_400_000);
  });

  it('reads a rate for all providers and overrides per provider by the name in upper case', () => {
    const config = loadAppConfig({ PROVIDER_RATE_LIMIT_PER_S: '5', PROVIDER_RATE_LIMIT_PER_S_MOCK_EMAIL: '0.5', PROVIDER_RATE_LIMIT_PER_S_MOCK_SMS: '0' });
    expect(providerEnvSuffix('mock-email')).toBe('MOCK_EMAIL');
    expect(providerRatePerS(config.providerGate, 'mock-email')).toBe(0.5);
    expect(providerRatePerS(config.providerGate, 'mock-sms')).toBe(0); // 0 lifts the limit for that provider
    expect(providerRatePerS(config.providerGate, 'twilio')).toBe(5);
  });

  it('names every invalid gate variable, per-provider ones included', () => {
    expect(() =>
      loadAppConfig({ PROVIDER_RATE_LIMIT_PER_S: '-1', PROVIDER_RATE_LIMIT_PER_S_MOCK_SMS: 'fast', PROVIDER_CIRCUIT_FAILURES: '0', DELIVERY_MAX_AGE_S: '0' }),
    ).toThrow(/DELIVERY_MAX_AGE_S:.*PROVIDER_RATE_LIMIT_PER_S:.*PROVIDER_CIRCUIT_FAILURES:.*PROVIDER_RATE_LIMIT_PER_S_MOCK_SMS: must be a number/);
  });

  it('counts the slot wait of the slowest paced provider in the job budget', () => {
    const paced = loadAppConfig({ PROVIDER_RATE_LIMIT_PER_S_MOCK_SMS: '0.5' });
    // per request: 1 s pause wait + 0.5..1.5 s slot queue + one slot of (1 s + 100 ms) / 0.5
    expect(gateWaitPerRequestMs(0.5)).toBe(1_000 + 500 + 1_000 + 2_200);
    expect(paced.delivery.jobExpireSeconds).toBe(Math.ceil(deliveryJobBudgetMs(2, 10_000, 10_000, 200, 60_000, 4_700) / 1000) + 10);
  });
});
