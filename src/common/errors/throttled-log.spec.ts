import { ThrottledLog } from './throttled-log';

describe('ThrottledLog', () => {
  it('logs the first occurrence at once, then at most one line per interval with the count left out', () => {
    let now = 1_000_000;
    const lines: string[] = [];
    const log = new ThrottledLog((line) => lines.push(line), 10_000, () => now);
    log.record('db down: a');
    for (let i = 0; i < 199; i++) {
      now += 50;
      log.record('db down: b');
    }
    expect(lines).toEqual(['db down: a']);
    now = 1_000_000 + 10_000;
    log.record('db down: c');
    expect(lines).toEqual(['db down: a', 'db down: c (and 199 more in the last 10 s)']);
  });

  it('logs a lone occurrence after a quiet interval without a count', () => {
    let now = 0;
    const lines: string[] = [];
    const log = new ThrottledLog((line) => lines.push(line), 1_000, () => now);
    log.record('one');
    now = 5_000;
    log.record('two');
    expect(lines).toEqual(['one', 'two']);
  });
});
