import { loadAppConfig, Role } from './app.config';
import { hostsMockProviders, runsWorker, servesApi } from './roles';

describe('roles', () => {
  it.each([
    [Role.All, true, true, true],
    [Role.Api, true, false, false],
    [Role.Worker, false, true, false],
  ])('ROLE=%s: API %s, worker %s, mock providers %s', (role, api, worker, mock) => {
    expect(servesApi(role)).toBe(api);
    expect(runsWorker(role)).toBe(worker);
    expect(hostsMockProviders(role)).toBe(mock);
  });
});

describe('SHUTDOWN_GRACE_MS', () => {
  it('defaults to 10 s', () => {
    expect(loadAppConfig({}).shutdownGraceMs).toBe(10_000);
  });

  it('takes whole milliseconds from 0 to 600000', () => {
    expect(loadAppConfig({ SHUTDOWN_GRACE_MS: '0' }).shutdownGraceMs).toBe(0);
    expect(loadAppConfig({ SHUTDOWN_GRACE_MS: '2500' }).shutdownGraceMs).toBe(2_500);
    for (const bad of ['-1', '1.5', 'soon', '600001']) {
      expect(() => loadAppConfig({ SHUTDOWN_GRACE_MS: bad })).toThrow(/SHUTDOWN_GRACE_MS/);
    }
  });
});
