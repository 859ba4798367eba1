import { deliveryJobBudgetMs, loadAppConfig, Role } from './app.config';

describe('loadAppConfig', () => {
  it('applies the defaults of design.md', () => {
    const config = loadAppConfig({});
    expect(config).toMatchObject({ port: 8000, role: Role.All, databaseUrl: undefined, defaultRegion: 'US' });
    expect(config.mockProvider).toEqual({ port: 8001, url: undefined });
    expect(config.delivery).toMatchObject({ maxAttempts: 8, timeoutMs: 10_000 });
  });

  it('derives the job expiry from the longest a delivery job can take', () => {
    const config = loadAppConfig({});
    const budgetS = Math.ceil(deliveryJobBudgetMs(2, 10_000, 10_000, 200, 60_000) / 1000);
    expect(budgetS).toBe(50); // 3 attempts x 10 s + 2 waits x 10 s
    expect(config.delivery.jobExpireSeconds).toBe(budgetS + 10);
  });

  it('refuses a job expiry a legitimate job could outlast (a second copy would run beside it)', () => {
    expect(() => loadAppConfig({ DELIVERY_JOB_EXPIRE_S: '30' })).toThrow(/DELIVERY_JOB_EXPIRE_S \(30\) must exceed .*50 s/);
    expect(loadAppConfig({ DELIVERY_JOB_EXPIRE_S: '51' }).delivery.jobExpireSeconds).toBe(51);
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
