import { performance } from 'node:perf_hooks';

/** One request of a SendLoad and how it was answered. */
export interface LoadAnswer {
  /** Sequence number of the request (0, 1, ...); also in its body, so a stored message names its request. */
  n: number;
  /** performance.now() when the request was sent. */
  startedAt: number;
  /** How long the answer took, ms (until the whole body was read). */
  ms: number;
  /** HTTP status; 0 when the request failed without an answer (connection error, or no answer within the client's limit). */
  status: number;
  contentType: string;
  body: any;
  /** Why there was no answer (status 0). */
  error?: string;
}

/**
 * Sends requests at a steady rate, without waiting for earlier answers (an answer that
 * hangs does not slow the load down), and records every answer with its latency.
 */
export class RequestLoad {
  readonly answers: LoadAnswer[] = [];
  private readonly pending = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private next = 0;

  /**
   * @param url where to send
   * @param bodyOf the JSON body of request `n`, POSTed; null: GET
   * @param perSecond requests per second
   * @param clientTimeoutMs the client gives up on an answer after this long (recorded as status 0)
   */
  constructor(
    private readonly url: string,
    private readonly bodyOf: (n: number) => unknown,
    private readonly perSecond: number,
    private readonly clientTimeoutMs = 30_000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.fire(), 1000 / this.perSecond);
  }

  /** Sends no more requests and waits for the answers still outstanding. */
  async stop(): Promise<LoadAnswer[]> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.pending]);
    return this.answers;
  }

  /** Answers to requests sent in [from, to) (performance.now() times). */
  sentBetween(from: number, to = Infinity): LoadAnswer[] {
    return this.answers.filter((a) => a.startedAt >= from && a.startedAt < to);
  }

  private fire(): void {
    const n = this.next++;
    const startedAt = performance.now();
    const done = this.send(n, startedAt)
      .then((answer) => void this.answers.push(answer))
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  private async send(n: number, startedAt: number): Promise<LoadAnswer> {
    try {
      const payload = this.bodyOf(n);
      const res = await fetch(this.url, {
        ...(payload === null ? { method: 'GET' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) }),
        signal: AbortSignal.timeout(this.clientTimeoutMs),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      return { n, startedAt, ms: performance.now() - startedAt, status: res.status, contentType: res.headers.get('content-type') ?? '', body };
    } catch (error) {
      return { n, startedAt, ms: performance.now() - startedAt, status: 0, contentType: '', body: null, error: (error as Error).message };
    }
  }
}

/**
 * @param values samples (any order)
 * @param p percentile, 0..100 (nearest rank)
 * @returns the p-th percentile, NaN without samples
 */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
