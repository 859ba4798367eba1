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

  add(...ids: string[]): void {
    for (const id of ids) this.waiting.push({ id, data: `data-${id}` });
  }

  async fetch(batchSize: number): Promise<QueueJob<string>[]> {
    this.fetches.push(batchSize);
    if (this.fetchGate) await this.fetchGate;
    return this.waiting.splice(0, batchSize);
  }

  async complete(id: string): Promise<void> {
    this.completed.push(id);
  }

  async fail(id: string, error: Error): Promise<void> {
    this.failed.push({ id, message: error.message });
  }
}

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

  throw(id: string, message: string): void {
    this.pending.get(id)?.reject(new Error(message));
    this.pending.delete(id);
  }
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('QueueConsumer', () => {
  let consumer: QueueConsumer<string> | undefined;

  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
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
