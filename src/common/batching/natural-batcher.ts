import DataLoader from 'dataloader';

/** Limits of a NaturalBatcher. */
export interface NaturalBatcherOptions {
  /** Most items in one batch. */
  maxBatchSize: number;
  /** Most batches running at once; further items wait, gathered into the next batch. */
  maxConcurrentBatches: number;
}

/**
 * Groups concurrent calls into batches by "natural batching" (as a database's group
 * commit does): while `maxConcurrentBatches` batches are running, new items gather in
 * the next batch, which starts as soon as a running one ends. At low load every item is
 * a batch of its own and waits for nothing but the end of the current event-loop turn;
 * under load batches grow with it, so that the cost per batch (database round trips) is
 * shared by many items. Built on DataLoader's batch scheduling, without its cache.
 */
export class NaturalBatcher<T, R> {
  /** Batches dispatched or about to be. */
  private active = 0;
  /** Dispatches of gathered batches waiting for a running one to end, oldest first. */
  private readonly waiting: (() => void)[] = [];
  private readonly loader: DataLoader<T, R>;

  /**
   * @param run handles one batch: resolves with one result per item, in order, an Error
   *   for an item that failed alone; rejects when the whole batch failed (every item gets
   *   that error)
   */
  constructor(run: (items: readonly T[]) => Promise<(R | Error)[]>, options: NaturalBatcherOptions) {
    this.loader = new DataLoader<T, R>(
      async (items) => {
        try {
          return await run(items);
        } finally {
          const next = this.waiting.shift();
          if (next) next();
          else this.active--;
        }
      },
      {
        cache: false,
        maxBatchSize: options.maxBatchSize,
        batchScheduleFn: (dispatch) => {
          if (this.active < options.maxConcurrentBatches) {
            this.active++;
            setImmediate(dispatch);
          } else {
            this.waiting.push(dispatch);
          }
        },
      },
    );
  }

  /**
   * Adds `item` to the batch being gathered.
   * @returns its result once its batch has run
   * @throws the item's Error, or the error of its whole batch
   */
  submit(item: T): Promise<R> {
    return this.loader.load(item);
  }
}
