import { NaturalBatcher } from './natural-batcher';

/** A batch runner whose batches end when the test says so; records each batch's items. */
function controlledRun() {
  const batches: string[][] = [];
  const releases: ((fail?: Error) => void)[] = [];
  const run = (items: readonly string[]) => {
    batches.push([...items]);
    return new Promise<(string | Error)[]>((resolve, reject) => {
      releases.push((fail) => (fail ? reject(fail) : resolve(items.map((item) => (item.startsWith('bad') ? new Error(`${item} refused`) : item.toUpperCase())))));
    });
  };
  return { batches, releases, run };
}

/** Lets setImmediate callbacks and promise jobs run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('NaturalBatcher', () => {
  it('runs a lone item as a batch of one, at once', async () => {
    const { batches, releases, run } = controlledRun();
    const batcher = new NaturalBatcher(run, { maxBatchSize: 10, maxConcurrentBatches: 1 });
    const a = batcher.submit('a');
    await turn();
    expect(batches).toEqual([['a']]);
    releases[0]();
    await expect(a).resolves.toBe('A');
  });

  it('gathers the items that come while the running batches are busy into the next batch', async () => {
    const { batches, releases, run } = controlledRun();
    const batcher = new NaturalBatcher(run, { maxBatchSize: 10, maxConcurrentBatches: 1 });
    const first = batcher.submit('a');
    await turn();
    const later = ['b', 'c', 'd'].map((item) => batcher.submit(item));
    await turn();
    expect(batches).toEqual([['a']]); // b, c, d wait for a's batch
    releases[0]();
    await first;
    await turn();
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    releases[1]();
    await expect(Promise.all(later)).resolves.toEqual(['B', 'C', 'D']);
  });

  it('runs up to maxConcurrentBatches batches at once, and splits at maxBatchSize', async () => {
    const { batches, releases, run } = controlledRun();
    const batcher = new NaturalBatcher(run, { maxBatchSize: 2, maxConcurrentBatches: 2 });
    const results = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((item) => batcher.submit(item));
    await turn();
    expect(batches).toEqual([['a', 'b'], ['c', 'd']]);
    releases[1]();
    await turn();
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    releases[0]();
    await turn();
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], ['g']]);
    releases[2]();
    releases[3]();
    await expect(Promise.all(results)).resolves.toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G']);
    // Everything ended: the next item starts at once again.
    batcher.submit('h');
    await turn();
    expect(batches).toHaveLength(5);
  });

  it('fails an item alone with its Error, and every item of a batch that failed as a whole', async () => {
    const { releases, run } = controlledRun();
    const batcher = new NaturalBatcher(run, { maxBatchSize: 10, maxConcurrentBatches: 1 });
    const first = ['a', 'bad1', 'c'].map((item) => batcher.submit(item).catch((error: Error) => error.message));
    await turn();
    releases[0]();
    await expect(Promise.all(first)).resolves.toEqual(['A', 'bad1 refused', 'C']);
    const second = ['d', 'e'].map((item) => batcher.submit(item).catch((error: Error) => error.message));
    await turn();
    releases[1](new Error('database down'));
    await expect(Promise.all(second)).resolves.toEqual(['database down', 'database down']);
  });
});
