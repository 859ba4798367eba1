import type { Message, MessageStatus } from './message.entity';
import { hasOutcome, MessageOutcomeWatcher } from './message-outcome.watcher';

/** A fake message table: statuses by id; records every lookup it answered. */
class FakeMessages {
  readonly statuses = new Map<string, MessageStatus>();
  readonly lookups: string[][] = [];
  failNext = false;

  lookup = async (ids: string[]): Promise<Message[]> => {
    this.lookups.push([...ids]);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database unavailable');
    }
    return ids
      .filter((id) => hasOutcome({ status: this.statuses.get(id) ?? 'queued' }))
      .map((id) => ({ id, status: this.statuses.get(id) }) as Message);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MessageOutcomeWatcher', () => {
  let db: FakeMessages;
  let watcher: MessageOutcomeWatcher;
  let errors: unknown[];

  beforeEach(() => {
    db = new FakeMessages();
    errors = [];
    watcher = new MessageOutcomeWatcher(db.lookup, 10, (e) => errors.push(e));
  });
  afterEach(() => watcher.close());

  it('resolves with the message once it has an outcome', async () => {
    db.statuses.set('1', 'sending');
    const waiting = watcher.wait('1', 5_000);
    await sleep(40);
    db.statuses.set('1', 'sent');
    await expect(waiting).resolves.toMatchObject({ id: '1', status: 'sent' });
    expect(watcher.waiting).toBe(0);
  });

  it('counts failed, delivered and undelivered as outcomes, queued and sending not', () => {
    for (const status of ['sent', 'delivered', 'undelivered', 'failed'] as const) expect(hasOutcome({ status })).toBe(true);
    for (const status of ['queued', 'sending'] as const) expect(hasOutcome({ status })).toBe(false);
  });

  it('resolves with null after the timeout and stops polling when nobody waits', async () => {
    const started = Date.now();
    await expect(watcher.wait('1', 50)).resolves.toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const polls = db.lookups.length;
    await sleep(50);
    expect(db.lookups.length).toBe(polls);
  });

  it('asks for all waited-for messages in one lookup per poll', async () => {
    const waits = ['1', '2', '3'].map((id) => watcher.wait(id, 5_000));
    await sleep(30);
    expect(db.lookups.some((ids) => ids.length === 3)).toBe(true);
    for (const id of ['1', '2', '3']) db.statuses.set(id, 'sent');
    await Promise.all(waits);
  });

  it('resolves every request waiting for the same message', async () => {
    const a = watcher.wait('7', 5_000);
    const b = watcher.wait('7', 5_000);
    db.statuses.set('7', 'failed');
    await expect(Promise.all([a, b])).resolves.toEqual([
      expect.objectContaining({ status: 'failed' }),
      expect.objectContaining({ status: 'failed' }),
    ]);
  });

  it('keeps polling after a failed lookup', async () => {
    db.failNext = true;
    db.statuses.set('1', 'sent');
    await expect(watcher.wait('1', 5_000)).resolves.toMatchObject({ status: 'sent' });
    expect(errors).toHaveLength(1);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const waiting = watcher.wait('1', 5_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeNull();
    expect(watcher.waiting).toBe(0);
  });

  it('ends every wait on close()', async () => {
    const waiting = watcher.wait('1', 5_000);
    watcher.close();
    await expect(waiting).resolves.toBeNull();
    await expect(watcher.wait('2', 5_000)).resolves.toBeNull();
  });
});
