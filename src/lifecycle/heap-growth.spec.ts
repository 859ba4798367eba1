import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Runs a process that keeps ~30 MB of live objects while churning through short-lived
 * ones that live long enough to be promoted (as requests in flight are), after
 * applyHeapGrowingPercent(percent); returns the largest heap it reached, MB.
 */
function peakHeapMb(percent: number): number {
  const script = `
    require(${JSON.stringify(join(__dirname, 'heap-growth.ts'))}).applyHeapGrowingPercent(${percent});
    const live = Array.from({ length: 200000 }, (_, i) => ({ i, s: 'x'.repeat(50) + i }));
    const window = [];
    let peak = 0;
    for (let round = 0; round < 3000; round++) {
      window.push(Array.from({ length: 1000 }, (_, i) => ({ round, i, s: 'y'.repeat(40) + i })));
      if (window.length > 50) window.shift();
      if (round % 20 === 0) peak = Math.max(peak, process.memoryUsage().heapTotal);
    }
    process.stdout.write(String(peak / 1048576 + live.length * 0));
  `;
  return Number(execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { encoding: 'utf8' }));
}

describe('applyHeapGrowingPercent', () => {
  it('keeps the heap of a churning process well below where V8 lets it grow on its own', () => {
    const own = peakHeapMb(0);
    const bounded = peakHeapMb(60);
    // 322-334 MB against 169-170 MB when written (2026-11-29).
    expect(bounded).toBeLessThan(own * 0.7);
  });
});
