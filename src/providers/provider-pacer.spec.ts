import { RateLimiterMemory } from 'rate-limiter-flexible';
import { slotMs } from './provider-gate-waits';
import { ProviderPacer } from './provider-pacer';

/** A pacer whose slots live in rate-limiter-flexible's memory store (same counting as the PostgreSQL one). */
function memoryPacer(rates: Record<string, number>): ProviderPacer {
  return new ProviderPacer(
    (provider) => rates[provider] ?? 0,
    (_provider, slotSeconds) => new RateLimiterMemory({ points: 1, duration: slotSeconds }),
  );
}

/** Most requests in any window of `windowMs` starting at a request. */
function busiestWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + windowMs).length));
}

describe('ProviderPacer', () => {
  it('does not pace a provider without a rate', async () => {
    const pacer = memoryPacer({});
    expect(pacer.paces('mock-sms')).toBe(false);
    const started = Date.now();
    const taken = await Promise.all(Array.from({ length: 100 }, () => pacer.take('mock-sms')));
    expect(taken.every((slot) => slot.taken)).toBe(true);
    expect(Date.now() - started).toBeLessThan(100);
  });

  describe('on a fake clock', () => {
    // The wait ends at a whole second, so the count granted depends on where in the second the
    // requests come: fake timers fix that (and a loaded machine cannot delay a slot past it).
    beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00.000Z') }));
    afterEach(() => jest.useRealTimers());

    it('spaces the requests of one provider a slot of (1 s + 100 ms)/rate apart, so no second holds more than the rate', async () => {
      // On the fake clock the times are the slots themselves: on a real one, a loaded
      // machine runs a timer late and the next on time, so two callers resume closer
      // together than their slots are (CI saw 51 ms for slots 55 ms apart).
      const pacer = memoryPacer({ fast: 20 });
      expect(pacer.paces('fast')).toBe(true);
      expect(slotMs(20)).toBe(55);
      const started = Date.now();
      // 10 at once: all fit in the 0.5..1.5 s a request may wait (10 slots of 55 ms).
      const pending = Promise.all(Array.from({ length: 10 }, async () => ({ slot: await pacer.take('fast'), after: Date.now() - started })));
      await jest.advanceTimersByTimeAsync(2_000);
      const results = await pending;
      expect(results.every((r) => r.slot.taken)).toBe(true);
      const times = results.map((r) => r.after).sort((a, b) => a - b);
      expect(times[0]).toBe(0);
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(55);
      expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(19);
    });

    it('gives up on a slot that does not come within 0.5 to 1.5 s (plus one slot) and hands out later slots to come back at', async () => {
      const pacer = memoryPacer({ slow: 2 }); // one slot per 550 ms
      const started = Date.now();
      const pending = Promise.all(Array.from({ length: 8 }, async () => ({ slot: await pacer.take('slow'), after: Date.now() - started })));
      await jest.advanceTimersByTimeAsync(3_000);
      const results = await pending;
      // At .000 the requests wait until the next whole second: the slots at 0 and 550 ms come in time, the one at 1,100 does not.
      const granted = results.filter((r) => r.slot.taken);
      expect(granted.map((r) => r.after)).toEqual([0, 550]);
      const refused = results.filter((r) => !r.slot.taken);
      expect(refused).toHaveLength(6);
      for (const r of refused) expect(r.after).toBeLessThanOrEqual(1_000 + 550); // the deadline, or one slot past it
      // Successive slots for the ones that gave up: one each 550 ms from the next one on.
      const comeBack = refused.map((r) => (r.slot.taken ? 0 : r.slot.retryAfterMs)).sort((a, b) => a - b);
      expect(comeBack[0]).toBeGreaterThan(0);
      for (let i = 1; i < comeBack.length; i++) expect(comeBack[i] - comeBack[i - 1]).toBeGreaterThanOrEqual(549);
    });

    it('waits longer when the requests come late in a second: up to 1.5 s', async () => {
      jest.setSystemTime(new Date('2026-01-01T00:00:00.600Z'));
      const pacer = memoryPacer({ slow: 2 });
      const started = Date.now();
      const pending = Promise.all(Array.from({ length: 8 }, async () => ({ slot: await pacer.take('slow'), after: Date.now() - started })));
      await jest.advanceTimersByTimeAsync(3_000);
      const results = await pending;
      expect(results.filter((r) => r.slot.taken).map((r) => r.after)).toEqual([0, 550, 1_100]);
      for (const r of results.filter((r) => !r.slot.taken)) expect(r.after).toBeLessThanOrEqual(1_400 + 550);
    });
  });

  it('keeps separate slots per provider', async () => {
    const pacer = memoryPacer({ a: 1, b: 1 });
    const started = Date.now();
    expect(await pacer.take('a')).toEqual({ taken: true });
    expect(await pacer.take('b')).toEqual({ taken: true });
    expect(Date.now() - started).toBeLessThan(100);
  });
});
