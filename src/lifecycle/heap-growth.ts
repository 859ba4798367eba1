import { setFlagsFromString } from 'node:v8';

/**
 * Bounds how far V8 lets the JavaScript heap grow between two full garbage collections:
 * the next one runs once the heap is `percent` % larger than what the last one kept
 * (V8's `--heap-growing-percent`, read at the end of every full collection, so setting
 * it at start-up works as on the command line; NODE_OPTIONS does not accept it). V8's
 * own heuristics, under the allocation rate of a loaded API process, let the heap grow
 * to 3-5 times its live data: 250-290 MB resident where about 60 MB is live (bench,
 * README Performance). This is no limit: a process that needs more memory (large
 * bodies, long pages) still gets it, after a collection more.
 * @param percent growth allowed, percent; 0 leaves V8's heuristics in place
 */
export function applyHeapGrowingPercent(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
