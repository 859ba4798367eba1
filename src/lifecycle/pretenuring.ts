import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring for this process
 * (`--no-allocation-site-pretenuring`, read at every garbage collection, so setting it
 * at start-up works as on the command line; NODE_OPTIONS does not accept it).
 *
 * Pretenuring makes V8 allocate the objects of an allocation site straight in the old
 * generation once nearly all of them were found alive at a scavenge, and a site decided
 * so stays so. Under load the objects made while a page of rows is parsed and answered
 * are alive at a scavenge while their request is in flight (with 8 in flight a fifth of
 * the young generation survives each scavenge), so sites get tenured
 * (`--trace-pretenuring-statistics` shows it) and short-lived objects fill the old
 * generation, which a full collection must then empty three times a second, where a
 * scavenge would have freed them for less. Measured with `npm run bench:compare`
 * (3 rounds, a ROLE=api process; README Performance): the cursor message list 1,454 ->
 * 1,919 pages/s, p99 20 -> 12 ms, CPU per page 0.71 -> 0.50 ms; conversations 3,042 ->
 * 3,645 pages/s, p99 12 -> 7 ms; sends 2,310 -> 2,533 req/s; delivery and peak RSS
 * unchanged.
 */
export function disableAllocationSitePretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
