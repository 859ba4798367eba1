import { Logger } from '@nestjs/common';
import { ConsumerQueue, QueueConsumer, QueueJob } from './queue-consumer';

/** An in-memory queue that records what the consumer did. */
class FakeQueue implements ConsumerQueue<string> {
  readonly waiting: QueueJob<string>[] = [];
  readonly fetches: number[] = [];
  readonly completed: string[] = [];
  readonly failed: { id: string; message: string }[] = [];
  /** When set, the next fetch waits for this promise before answering. */
  fetchGate?: Promise<void>;
  /** While set, fetch, complete and fail throw it (the database is unreachable). */
  down?: Error & { code?: string };
  /** complete/fail calls that threw because the queue was down. */
  failedWrites = 0;

  add(...ids: string[]): void {
    for (const id of ids) this.waiting.push({ id, data: `data-${id}` });
  }

  /** Adds jobs that expire `expireInSeconds` after they are fetched (as pg-boss reports it: a numeric string). */
  addExpiring(expireInSeconds: string, ...ids: string[]): void {
    for (const id of ids) this.waiting.push({ id, data: `data-${id}`, expireInSeconds });
  }

  async fetch(batchSize: number): Promise<QueueJob<string>[]> {
    this.fetches.push(batchSize);
    if (this.fetchGate) await this.fetchGate;
    if (this.down) throw this.down;
    return this.waiting.splice(0, batchSize);
  }

  /** complete() calls, each with its ids. */
  readonly completeCalls: string[][] = [];

  async complete(ids: string[]): Promise<void> {
    this.throwWhileDown();
    this.completeCalls.push(ids);
    this.completed.push(...ids);
  }

  async fail(id: string, error: Error): Promise<void> {
    this.throwWhileDown();
    this.failed.push({ id, message: error.message });
  }

  private throwWhileDown(): void {
    if (!this.down) return;
    this.failedWrites++;
    throw this.down;
  }
}

/** What pg throws while PostgreSQL is stopped. */
const refused = (): Error & { code: string } => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const isRefused = (e: unknown): boolean => (e as { code?: string }).code === 'ECONNREFUSED';

/** A handler whose jobs end when the test says so. */
class ControlledHandler {
  readonly started: string[] = [];
  private readonly pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();

  readonly handle = (job: QueueJob<string>): Promise<void> =>
    new Promise((resolve, reject) => {
      this.started.push(job.id);
      this.pending.set(job.id, { resolve, reject });
    });

  finish(id: string): void {
    this.pending.get(id)?.resolve();
    this.pending.delete(id);
  }

  throw(id: string, message: string | Error): void {
    this.pending.get(id)?.reject(typeof message === 'string' ? new Error(message) : message);
    this.pending.delete(id);
  }
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('QueueConsumer', () => {
  let consumer: QueueConsumer<string> | undefined;

  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await consumer?.stop(0);
    consumer = undefined;
  });

  it('runs at most `concurrency` jobs at once and fills a slot as soon as one frees', async () => {
    const queue = new FakeQueue();
    const handler = new ControlledHandler();
    queue.add('1', '2', '3', '4', '5');
    consumer = new QueueConsumer('q', queue, handler.handle, 2, 10_000);
    consumer.start();
    await tick();
    expect(handler.started).toEqual(['1', '2']);
    expect(queue.fetches).toEqual([2]);
    handler.finish('1');
    await tick();
    // No wait for the polling interval: the freed slot is filled at once.
    expect(handler.started).toEqual(['1', '2', '3']);
    expect(queue.fetches).toEqual([2, 1]);
    expect(queue.completed).toEqual(['1']);
  });

  it('under load fetches again once a quarter of the slots is free, not per finished job', async () => {
    const queue = new FakeQueue();
    const handler = new ControlledHandler();
    queue.add(...Array.from({ length: 20 }, (_, i) => String(i + 1)));
    consumer = new QueueConsumer('q', queue, handler.handle, 8, 10_000);
    consumer.start();
    await tick();
    expect(handler.started).toHaveLength(8);
    handler.finish('1');
    await tick();
    expect(queue.fetches).toEqual([8]); // 1 of 8 free: waits for a second one
    handler.finish('2');
    await tick();
    expect(queue.fetches).toEqual([8, 2]);
    expect(handler.started).toHaveLength(10);
  });

  it('completes jobs that finish at the same time with one write, failures one by one', async () => {
    const queue = new FakeQueue();
    const handler = new ControlledHandler();
    queue.add('1', '2', '3', '4');
    consumer = new QueueConsumer('q', queue, handler.handle, 4, 10_000);
    consumer.start();
    await tick();
    handler.finish('1');
    handler.finish('2');
    handler.throw('3', 'boom');
    handler.finish('4');
    await tick();
    expect(queue.completeCalls).toEqual([['1', '2', '4']]);
    expect(queue.failed).toEqual([{ id: '3', message: 'boom' }]);
  });

  it('fails a job whose handler throws, so that the queue retries it', async () => {
    const queue = new FakeQueue();
    const handler = new ControlledHandler();
    queue.add('1');
    consumer = new QueueConsumer('q', queue, handler.handle, 1, 10_000);
    consumer.start();
    await tick();
    handler.throw('1', 'database down');
    await tick();
    expect(queue.failed).toEqual([{ id: '1', message: 'database down' }]);
    expect(queue.completed).toEqual([]);
  });

  it('survives fetches that fail (the database is down) and takes jobs again once they succeed', async () => {
    const queue = new FakeQueue();
    const handler = new ControlledHandler();
    queue.down = refused();
    queue.add('1');
    consumer = new QueueConsumer('q', queue, handler.handle, 2, 10);
    consumer.start();
    await tick(50);
    expect(queue.fetches.length).toBeGreaterThanOrEqual(2);
    expect(handler.started).toEqual([]);
    queue.down = undefined;
    await tick(30);
    expect(handler.started).toEqual(['1']);
  });

  describe('when the outcome of a job cannot be written (the database is down)', () => {
    it('writes a failure again until the database is back, keeping the slot meanwhile', async () => {
      const queue = new FakeQueue();
      const handler = new ControlledHandler();
      queue.addExpiring('60', '1', '2');
      consumer = new QueueConsumer('q', queue, handler.handle, 1, 10, { retryRecordOn: isRefused, recordRetryMs: 10 });
      consumer.start();
      await tick();
      queue.down = refused();
      handler.throw('1', 'connect ECONNREFUSED 127.0.0.1:5432');
      await tick(55);
      expect(queue.failedWrites).toBeGreaterThanOrEqual(3);
      expect(queue.failed).toEqual([]);
      expect(handler.started).toEqual(['1']); // the slot is still taken
      queue.down = undefined;
      await tick(30);
      expect(queue.failed).toEqual([{ id: '1', message: 'connect ECONNREFUSED 127.0.0.1:5432' }]);
      expect(handler.started).toEqual(['1', '2']);
    });

    it('writes a completion again too, so that the finished job does not run a second time', async () => {
      const queue = new FakeQueue();
      const handler = new ControlledHandler();
      queue.addExpiring('60', '1');
      consumer = new QueueConsumer('q', queue, handler.handle, 1, 10, { retryRecordOn: isRefused, recordRetryMs: 10 });
      consumer.start();
      await tick();
      queue.down = refused();
      handler.finish('1');
      await tick(35);
      expect(queue.completed).toEqual([]);
      queue.down = undefined;
      await tick(30);
      expect(queue.completed).toEqual(['1']);
    });

    it('gives up shortly before the job expires (the queue runs it again then)', async () => {
      const queue = new FakeQueue();
      const handler = new ControlledHandler();
      queue.addExpiring('0.1', '1');
      consumer = new QueueConsumer('q', queue, handler.handle, 1, 10, { retryRecordOn: isRefused, recordRetryMs: 20 });
      consumer.start();
      await tick();
      queue.down = refused();
      handler.throw('1', 'down');
      await tick(150);
      const writes = queue.failedWrites;
      // Expiry 100 ms after the fetch, less one 20 ms interval: at most about four tries.
      expect(writes).toBeGreaterThanOrEqual(2);
      expect(writes).toBeLessThanOrEqual(5);
      await tick(60);
      expect(queue.failedWrites).toBe(writes);
      expect(consumer.active).toBe(0);
    });

    it('does not write again without an expiry, or for errors that are not outages', async () => {
      for (const [job, options] of [
        [{ expire: undefined }, { retryRecordOn: isRefused, recordRetryMs: 10 }],
        [{ expire: '60' }, { recordRetryMs: 10 }],
        [{ expire: '60' }, { retryRecordOn: () => false, recordRetryMs: 10 }],
      ] as const) {
        const queue = new FakeQueue();
        const handler = new ControlledHandler();
        if (job.expire) queue.addExpiring(job.expire, '1');
        else queue.add('1');
        consumer = new QueueConsumer('q', queue, handler.handle, 1, 10, options);
        consumer.start();
        await tick();
        queue.down = refused();
        handler.throw('1', 'down');
        await tick(50);
        expect(queue.failedWrites).toBe(1);
        await consumer.stop(0);
      }
    });

    it('logs an outage that every running job meets in a few lines, not a line per job; other failures one each', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockClear();
      const log = jest.spyOn(Logger.prototype, 'log').mockClear();
      const queue = new FakeQueue();
      const handler = new ControlledHandler();
      const ids = Array.from({ length: 20 }, (_, i) => String(i + 1));
      queue.addExpiring('60', ...ids);
      consumer = new QueueConsumer('q', queue, handler.handle, 20, 10, { retryRecordOn: isRefused, recordRetryMs: 10 });
      consumer.start();
      await tick();
      queue.down = refused();
      for (const id of ids.slice(0, 18)) handler.throw(id, refused());
      handler.throw('19', 'provider said no');
      handler.throw('20', 'provider said no again');
      await tick(40);
      queue.down = undefined;
      await tick(40);
      expect(queue.failed).toHaveLength(20);
      const lines = (spy: jest.SpyInstance): string[] => spy.mock.calls.map(([line]) => String(line));
      // One line for the jobs that failed on the outage, one per other failure; one for
      // the outcomes that could not be written, one for those written later.
      expect(lines(warn).filter((l) => /^Job \d+ of q failed: connect ECONNREFUSED/.test(l))).toHaveLength(1);
      expect(lines(warn).filter((l) => /failed: provider said no/.test(l))).toHaveLength(2);
      expect(lines(warn).filter((l) => l.startsWith('Could not record job'))).toHaveLength(1);
      expect(lines(log).filter((l) => l.startsWith('Recorded job'))).toHaveLength(1);
    });

    it('stops writing again at the deadline of stop()', async () => {
      const queue = new FakeQueue();
      const handler = new ControlledHandler();
      queue.addExpiring('60', '1');
      consumer = new QueueConsumer('q', queue, handler.handle, 1, 10, { retryRecordOn: isRefused, recordRetryMs: 10 });
      consumer.start();
      await tick();
      queue.down = refused();
      handler.throw('1', 'down');
      await tick();
      const started = Date.now();
      const result = await consumer.stop(40);
      expect(Date.now() - started).toBeLessThan(70);
      expect(result.finished + result.abandoned).toBe(1);
      await tick(30);
      const writes = queue.failedWrites;
      await tick(40);
      expect(queue.failedWrites).toBe(writes);
      expect(consumer.active).toBe(0);
    });
  });

  it('polls an empty queue every polling interval', async () => {
    const queue = new FakeQueue();
    consumer = new QueueConsumer('q', queue, new ControlledHandler().handle, 3, 30);
    consumer.start();
    await tick(100);
    expect(queue.fetches.length).toBeGreaterThanOrEqual(3);
    expect(queue.fetches.length).toBeLessThanOrEqual(5);
  });

  it('on stop fetches nothing more, lets running jobs finish and leaves queued ones queued', async () => {
    const queue = new FakeQueue();
    const handler = new ControlledHandler();
    queue.add('1', '2', '3', '4');
    consumer = new QueueConsumer('q', queue, handler.handle, 2, 10);
    consumer.start();
    await tick();
    const stopped = consumer.stop(1_000);
    await tick(30);
    handler.finish('1');
    handler.finish('2');
    expect(await stopped).toEqual({ finished: 2, abandoned: 0 });
    expect(queue.completed).toEqual(['1', '2']);
    expect(handler.started).toEqual(['1', '2']);
    expect(queue.waiting.map((j) => j.id)).toEqual(['3', '4']);
    expect(queue.fetches).toEqual([2]);
  });

  it('abandons jobs still running at the deadline, without completing or failing them', async () => {
    const queue = new FakeQueue();
    const handler = new ControlledHandler();
    queue.add('1', '2');
    consumer = new QueueConsumer('q', queue, handler.handle, 2, 10);
    consumer.start();
    await tick();
    handler.finish('1');
    await tick();
    const started = Date.now();
    const result = await consumer.stop(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(result).toEqual({ finished: 0, abandoned: 1 });
    expect(queue.completed).toEqual(['1']);
    expect(queue.failed).toEqual([]);
    handler.finish('2');
  });

  it('runs the jobs of a fetch that was under way when stop was called, and waits for them', async () => {
    const queue = new FakeQueue();
    const handler = new ControlledHandler();
    let openGate!: () => void;
    queue.fetchGate = new Promise((r) => (openGate = r));
    queue.add('1');
    consumer = new QueueConsumer('q', queue, handler.handle, 2, 10);
    consumer.start();
    await tick();
    const stopped = consumer.stop(1_000);
    openGate();
    await tick();
    expect(handler.started).toEqual(['1']);
    handler.finish('1');
    expect(await stopped).toEqual({ finished: 1, abandoned: 0 });
    expect(queue.completed).toEqual(['1']);
    expect(queue.fetches).toEqual([2]);
  });

  it('stops at once when idle', async () => {
    const queue = new FakeQueue();
    consumer = new QueueConsumer('q', queue, new ControlledHandler().handle, 2, 60_000);
    consumer.start();
    await tick();
    const started = Date.now();
    expect(await consumer.stop(5_000)).toEqual({ finished: 0, abandoned: 0 });
    expect(Date.now() - started).toBeLessThan(50);
  });
});
