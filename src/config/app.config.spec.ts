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

describe('API keys and NODE_ENV', () => {
  it('refuses to start in production without API keys, naming the variable', () => {
    for (const keys of [undefined, '', ' , ']) {
      expect(() => loadAppConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: 's', ...(keys === undefined ? {} : { API_KEYS: keys }) })).toThrow(
        /^Invalid configuration: .*API_KEYS: required when NODE_ENV=production/,
      );
    }
  });

  it('starts in production with keys, and without keys in development and test (open)', () => {
    expect(loadAppConfig({ NODE_ENV: 'production', API_KEYS: 'prod-key-1', WEBHOOK_SECRET: 's' }).apiKeys).toEqual(['prod-key-1']);
    expect(loadAppConfig({ NODE_ENV: 'production', ROLE: 'worker' }).apiKeys).toEqual([]);
    expect(loadAppConfig({ NODE_ENV: 'development' }).apiKeys).toEqual([]);
    expect(loadAppConfig({ NODE_ENV: 'test' }).apiKeys).toEqual([]);
    expect(loadAppConfig({}).apiKeys).toEqual([]); // NODE_ENV defaults to development
  });

  it('refuses keys a Bearer header cannot carry, without repeating them', () => {
    const error = (() => {
      try {
        loadAppConfig({ API_KEYS: 'good-key,bad key with spaces,bäd,=lead' });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(error).toMatch(/API_KEYS: 3 key\(s\) hold characters a Bearer token cannot carry/);
    expect(error).not.toMatch(/good-key|spaces|bäd|=lead/);
    expect(loadAppConfig({ API_KEYS: 'aZ09-._~+/==' }).apiKeys).toEqual(['aZ09-._~+/==']);
  });
});

describe('docs, rate limit and body limit settings', () => {
  it('defaults: docs on, 6000 requests per 60 s per key, 2 MB bodies', () => {
    const config = loadAppConfig({});
    expect(config.docsEnabled).toBe(true);
    expect(config.rateLimit).toEqual({ requests: 6000, windowMs: 60_000 });
    expect(config.bodyLimit).toBe(2 * 1024 * 1024);
  });

  it.each([
    ['false', false],
    ['FALSE', false],
    ['0', false],
    ['true', true],
    [' True ', true],
    ['1', true],
  ])('reads DOCS_ENABLED=%p as %p', (value, enabled) => {
    expect(loadAppConfig({ DOCS_ENABLED: value }).docsEnabled).toBe(enabled);
  });

  it('refuses a DOCS_ENABLED that is not a boolean', () => {
    expect(() => loadAppConfig({ DOCS_ENABLED: 'no' })).toThrow(/DOCS_ENABLED must be true or false/);
  });

  it('reads the rate limit; 0 turns it off; negative or fractional values are refused', () => {
    expect(loadAppConfig({ RATE_LIMIT_REQUESTS: '0' }).rateLimit.requests).toBe(0);
    expect(loadAppConfig({ RATE_LIMIT_REQUESTS: '100', RATE_LIMIT_WINDOW_S: '1' }).rateLimit).toEqual({ requests: 100, windowMs: 1000 });
    expect(() => loadAppConfig({ RATE_LIMIT_REQUESTS: '-1' })).toThrow(/RATE_LIMIT_REQUESTS/);
    expect(() => loadAppConfig({ RATE_LIMIT_REQUESTS: '1.5' })).toThrow(/RATE_LIMIT_REQUESTS/);
    expect(() => loadAppConfig({ RATE_LIMIT_WINDOW_S: '0' })).toThrow(/RATE_LIMIT_WINDOW_S/);
  });

  it.each([
    ['2mb', 2_097_152],
    ['1kb', 1024],
    ['1.5MB', 1_572_864],
    ['512 kb', 524_288],
    ['100b', 100],
    ['1048576', 1_048_576],
  ])('reads BODY_LIMIT=%p as %p bytes', (value, bytes) => {
    expect(loadAppConfig({ BODY_LIMIT: value }).bodyLimit).toBe(bytes);
  });

  it.each(['abc', '2 MiB', '-1', '0', '1tb', '0.5b'])('refuses BODY_LIMIT=%p', (value) => {
    expect(() => loadAppConfig({ BODY_LIMIT: value })).toThrow(/BODY_LIMIT/);
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

describe('webhook settings', () => {
  it('runs webhooks unsigned without WEBHOOK_SECRET outside production', () => {
    expect(loadAppConfig({}).webhookSecret).toBeUndefined();
    expect(loadAppConfig({ NODE_ENV: 'test' }).webhookSecret).toBeUndefined();
    expect(loadAppConfig({ WEBHOOK_SECRET: 's3cret' }).webhookSecret).toBe('s3cret');
  });

  it('refuses to start in production without WEBHOOK_SECRET, unless the process serves no webhooks', () => {
    expect(() => loadAppConfig({ NODE_ENV: 'production', API_KEYS: 'k1' })).toThrow(/WEBHOOK_SECRET must be set when NODE_ENV=production/);
    expect(() => loadAppConfig({ NODE_ENV: 'production', API_KEYS: 'k1', ROLE: 'api', WEBHOOK_SECRET: '' })).toThrow(/WEBHOOK_SECRET/);
    expect(loadAppConfig({ NODE_ENV: 'production', API_KEYS: 'k1', WEBHOOK_SECRET: 's3cret' }).webhookSecret).toBe('s3cret');
    expect(loadAppConfig({ NODE_ENV: 'production', ROLE: 'worker' }).webhookSecret).toBeUndefined();
  });

  it('reads TRUST_PROXY for Express and names a bad value', () => {
    expect(loadAppConfig({}).trustProxy).toBe(false);
    expect(loadAppConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadAppConfig({ TRUST_PROXY: 'loopback' }).trustProxy).toBe('loopback');
    expect(() => loadAppConfig({ TRUST_PROXY: 'proxy.local' })).toThrow(/Invalid configuration: TRUST_PROXY: must be/);
  });
});
