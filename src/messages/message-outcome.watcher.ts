import type { Message, MessageStatus } from './message.entity';

/** Outbound statuses a message is still waiting in; every other status is an outcome. */
export const PENDING_STATUSES: readonly MessageStatus[] = ['queued', 'sending'];

/** @returns true when the message's delivery has an outcome (sent, delivered, undelivered or failed) */
export function hasOutcome(message: Pick<Message, 'status'>): boolean {
  return !PENDING_STATUSES.includes(message.status);
}

/**
 * Reads the messages among `ids` that have an outcome. Each call takes a pooled
 * database connection for one query and gives it back.
 */
export type OutcomeLookup = (ids: string[]) => Promise<Message[]>;

type Waiter = (message: Message | null) => void;

/**
 * Lets requests wait until a message's delivery has an outcome (`Prefer: wait`), by
 * polling the database: one query every `intervalMs` for all waiting requests of this
 * process together, and none while nobody waits. No connection is held between polls,
 * and any process sees the outcome whichever worker process delivered the message.
 */
export class MessageOutcomeWatcher {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;

  /**
   * @param lookup reads the messages among the given ids that have an outcome
   * @param intervalMs pause between the end of one poll and the start of the next
   * @param onError told about a failed poll (the next poll tries again)
   */
  constructor(
    private readonly lookup: OutcomeLookup,
    private readonly intervalMs = 100,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /**
   * Waits until message `id` has an outcome.
   * @param timeoutMs give up after this long
   * @param signal stops waiting early when aborted (the client went away)
   * @returns the message with its outcome, or null on timeout, abort or close()
   */
  wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<Message | null> {
    if (this.closed || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const done: Waiter = (message) => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', abort);
        const set = this.waiters.get(id);
        set?.delete(done);
        if (set?.size === 0) this.waiters.delete(id);
        resolve(message);
      };
      const abort = () => done(null);
      const timeout = setTimeout(abort, timeoutMs);
      signal?.addEventListener('abort', abort, { once: true });
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      set.add(done);
      this.waiters.set(id, set);
      this.schedule();
    });
  }

  /** Ends every wait (each resolves with null) and stops polling; later waits end at once. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const set of [...this.waiters.values()]) for (const done of [...set]) done(null);
  }

  /** Number of requests waiting (for tests). */
  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  private schedule(): void {
    if (this.closed || this.polling || this.timer || this.waiters.size === 0) return;
    this.timer = setTimeout(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    this.polling = true;
    try {
      const ids = [...this.waiters.keys()];
      if (ids.length > 0) {
        for (const message of await this.lookup(ids)) {
          for (const done of [...(this.waiters.get(message.id) ?? [])]) done(message);
        }
      }
    } catch (error) {
      this.onError(error);
    } finally {
      this.polling = false;
      this.schedule();
    }
  }
}
