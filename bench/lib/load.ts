import autocannon from 'autocannon';

/** What one autocannon run measured. */
export interface LoadResult {
  /** Requests answered with the expected status per second (over the whole run). */
  reqPerS: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers with the expected status. */
  ok: number;
  /** Answers with another status, and errors/timeouts. */
  unexpected: number;
  durationS: number;
}

/** One run of autocannon. */
export interface LoadOptions {
  url: string;
  connections: number;
  durationS?: number;
  /** Requests in all instead of a duration. */
  amount?: number;
  method?: 'GET' | 'POST';
  /** Body of request number `n` (JSON), for POSTs. */
  body?: (n: number) => unknown;
  /** Path of request number `n`, for GETs that vary. */
  path?: (n: number) => string;
  headers?: Record<string, string>;
  /** The status a request must get to count (202 for sends, 200 for reads). */
  expectStatus: number;
}

/**
 * Runs autocannon against one URL and reads its latency histogram (HdrHistogram,
 * milliseconds; p50/p90/p99 are of every request, whatever its status).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let n = 0;
  let ok = 0;
  let unexpected = 0;
  const started = Date.now();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 15 }),
    timeout: 30,
    requests: [
      {
        method: options.method ?? 'GET',
        headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
        setupRequest: (req) => {
          const i = n++;
          const out = { ...req };
          if (options.body) out.body = JSON.stringify(options.body(i));
          if (options.path) out.path = options.path(i);
          return out;
        },
        onResponse: (status) => {
          if (status === options.expectStatus) ok++;
          else unexpected++;
        },
      },
    ],
  });
  const durationS = (Date.now() - started) / 1000;
  return {
    reqPerS: ok / durationS,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    ok,
    unexpected: unexpected + result.errors + result.timeouts,
    durationS,
  };
}

/** @returns the median of `values` (the mean of the middle two for an even count) */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
