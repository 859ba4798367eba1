import { MAX_PREFER_WAIT_SECONDS, preferredWaitSeconds } from './prefer-wait';

describe('preferredWaitSeconds', () => {
  it('reads wait=N', () => {
    expect(preferredWaitSeconds('wait=10')).toBe(10);
    expect(preferredWaitSeconds('wait=1')).toBe(1);
  });

  it('ignores case, spaces, quotes, parameters and other preferences', () => {
    expect(preferredWaitSeconds('WAIT=5')).toBe(5);
    expect(preferredWaitSeconds(' wait = 7 ')).toBe(7);
    expect(preferredWaitSeconds('wait="3"')).toBe(3);
    expect(preferredWaitSeconds('respond-async, wait=4')).toBe(4);
    expect(preferredWaitSeconds('return=representation; foo=bar, wait=6;x=y')).toBe(6);
    expect(preferredWaitSeconds(['handling=lenient', 'wait=2'])).toBe(2);
  });

  it('takes the first wait when there are several', () => {
    expect(preferredWaitSeconds('wait=2, wait=9')).toBe(2);
  });

  it(`caps the wait at ${MAX_PREFER_WAIT_SECONDS} seconds`, () => {
    expect(preferredWaitSeconds('wait=31')).toBe(MAX_PREFER_WAIT_SECONDS);
    expect(preferredWaitSeconds('wait=999999999999999999999')).toBe(MAX_PREFER_WAIT_SECONDS);
  });

  it('means no wait for an absent, zero or malformed wait', () => {
    expect(preferredWaitSeconds(undefined)).toBeNull();
    expect(preferredWaitSeconds('')).toBeNull();
    expect(preferredWaitSeconds('respond-async')).toBeNull();
    expect(preferredWaitSeconds('wait=0')).toBeNull();
    expect(preferredWaitSeconds('wait')).toBeNull();
    expect(preferredWaitSeconds('wait=')).toBeNull();
    expect(preferredWaitSeconds('wait=-1')).toBeNull();
    expect(preferredWaitSeconds('wait=1.5')).toBeNull();
    expect(preferredWaitSeconds('wait=abc')).toBeNull();
    expect(preferredWaitSeconds('waiting=5')).toBeNull();
  });
});
