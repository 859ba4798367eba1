import fc from 'fast-check';
import http from 'http';
import type { Response } from 'supertest';
import type { TestApp } from './test-app';

/**
 * Shared machinery of the property-based e2e suite (test/properties/): how many runs,
 * which seed, the environment of the app under test, sending a generated request,
 * the checks every answer must pass, counting stored rows, and the per-endpoint
 * statistics printed at the end.
 */

/**
 * Environment of the app every property file starts (startTestApp). One place to
 * extend: e.g. a rate limit or API keys that the suite must run without.
 *
 * The test database, with `synchronous_commit=off` for the app's sessions: a commit
 * does not wait for its WAL flush. The suite checks answers and rows, not durability
 * across a crash of PostgreSQL, and each accepted message commits once; waiting for the
 * disk made the valid-request properties a quarter slower.
 */
export const PROPERTY_APP_ENV: Record<string, string> = {
  DATABASE_URL: withSessionOption(process.env.DATABASE_URL ?? '', 'synchronous_commit=off'),
  // Thousands of requests a minute from one client: the client rate limit would answer 429.
  RATE_LIMIT_REQUESTS: '0',
};

/** @returns the PostgreSQL URL `url` with `-c setting` added to its `options` (libpq, read by node-postgres) */
function withSessionOption(url: string, setting: string): string {
  if (!url) return url;
  const parsed = new URL(url);
  parsed.searchParams.set('options', `${parsed.searchParams.get('options') ?? ''} -c ${setting}`.trim());
  return parsed.toString();
}

/** Generated requests per endpoint (split between its properties). PROPERTY_RUNS=200 for a quick local run. */
export const PROPERTY_RUNS = positiveInt(process.env.PROPERTY_RUNS, 2000);

/**
 * Base seed of every property (each adds its own offset), fixed so that CI runs are
 * reproducible; PROPERTY_SEED=<n> picks another, PROPERTY_SEED=random a fresh one
 * (printed). fast-check prints the seed and the path of a failing run.
 */
export const PROPERTY_SEED = process.env.PROPERTY_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : positiveInt(process.env.PROPERTY_SEED, 20_261_129);

/** Malformed requests between two row counts (PROPERTY_CHECK_EVERY=1 counts after each, to find which one stored). */
export const CHECK_EVERY = positiveInt(process.env.PROPERTY_CHECK_EVERY, 50);

function positiveInt(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${raw}`);
  return n;
}

let seedShown = false;

/**
 * fast-check parameters of a property: `runs` runs from seed PROPERTY_SEED + `offset`.
 * Without PROPERTY_SHRINK=1 a failure ends the property at once (shrinking replays
 * requests against a database whose state has moved on); fast-check prints the seed
 * and path that replay the failing run.
 */
export function propertyParams(runs: number, offset: number): fc.Parameters<unknown> {
  if (!seedShown) console.log(`property tests: PROPERTY_SEED=${PROPERTY_SEED} (a failure prints fast-check's seed, PROPERTY_SEED + the property's offset)`);
  seedShown = true;
  return { numRuns: runs, seed: PROPERTY_SEED + offset, endOnFailure: process.env.PROPERTY_SHRINK !== '1' };
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/** A generated HTTP request. */
export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path and query, already percent-encoded as they go on the wire. */
  path: string;
  headers?: Record<string, string | string[]>;
  /** A body serialised with JSON.stringify and sent as application/json. */
  json?: unknown;
  /** A body sent byte for byte, with this Content-Type (none when undefined). */
  raw?: { text: string; contentType?: string };
  /** What kind of request this is, for the statistics and failure messages. */
  label: string;
}

/** @returns `spec` printed briefly by fast-check (bodies can be megabytes) */
export function printable<T extends object>(value: T, summary: (v: T) => string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: () => summary(value), enumerable: false });
  return value;
}

/** @returns a short description of a request: method, path, label, headers and the start of its body */
export function describeRequest(spec: RequestSpec): string {
  const body = spec.raw ? spec.raw.text : spec.json === undefined ? '' : JSON.stringify(spec.json);
  const shown = body.length > 300 ? `${body.slice(0, 300)}... (${body.length} chars)` : body;
  const headers = spec.headers ? ` ${JSON.stringify(spec.headers).slice(0, 300)}` : '';
  const type = spec.raw ? ` [Content-Type: ${spec.raw.contentType ?? 'none'}]` : '';
  return `${spec.method} ${spec.path.length > 200 ? `${spec.path.slice(0, 200)}...` : spec.path} <${spec.label}>${headers}${type} ${shown}`;
}

/** One keep-alive connection for the suite's sequential requests (a new TCP connection per request costs more than the request). */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** Sends `spec` to the app in-process (supertest) and returns the answer. */
export async function perform(t: TestApp, spec: RequestSpec): Promise<Response> {
  let req = spec.method === 'GET' ? t.http.get(spec.path) : t.http.post(spec.path);
  req = req.agent(keepAlive);
  for (const [name, value] of Object.entries(spec.headers ?? {})) req = req.set(name, value as string);
  if (spec.json !== undefined) {
    req = req.set('Content-Type', 'application/json').send(JSON.stringify(spec.json));
  } else if (spec.raw?.contentType !== undefined) {
    req = req.set('Content-Type', spec.raw.contentType).send(spec.raw.text); // a string goes out as it is
  } else if (spec.raw) {
    req = req.send(Buffer.from(spec.raw.text, 'utf8')); // a Buffer: superagent adds no Content-Type of its own
  }
  return req;
}

/** Text that would betray internals in an error body: stack frames, ORM/driver names, SQL, file paths. */
const LEAKS: ReadonlyArray<[string, RegExp]> = [
  ['stack frame', /\bat (?:[\w.<>$\[\] ]+ \()?(?:\/|file:|node:)[^\s)]*:\d+:\d+/],
  ['error class', /\b(?:QueryFailedError|EntityNotFoundError|TypeORMError|TypeError|ReferenceError|RangeError|SyntaxError|DatabaseError)\b/],
  ['ORM name', /TypeORM/i],
  ['driver name', /\bpg(?:-boss)?\b|node-postgres|postgres(?:ql)?\b/i],
  ['node_modules', /node_modules/],
  ['source path', /\/src\/|\.ts:\d+|\.js:\d+/],
  ['SQL', /\bSELECT\s|\bINSERT\s+INTO\b|\bUPDATE\s+\S+\s+SET\b|\bDELETE\s+FROM\b|\bviolates\b.*\bconstraint\b|\bduplicate key\b/i],
];

/**
 * @returns the leaks found in `text` that are not in what the client sent (an error
 *   may quote the client's own input, e.g. an unknown field's name)
 */
export function leaksIn(text: string, sent: () => string): string[] {
  const found = LEAKS.filter(([, pattern]) => pattern.test(text));
  if (found.length === 0) return [];
  const request = sent();
  return found.filter(([, pattern]) => !pattern.test(request)).map(([name]) => name);
}

/**
 * The checks every answer passes: no 5xx; a 4xx is application/problem+json whose
 * `status` is the HTTP status, with `type`, `title` and `detail`, and leaks no stack
 * trace, SQL or library name.
 * @param allowed the statuses this request may get
 * @returns the parsed JSON body (undefined when the answer has none)
 */
export function checkAnswer(res: Response, spec: RequestSpec, allowed: readonly number[]): unknown {
  const context = () => `${res.status} ${res.headers['content-type'] ?? ''} ${res.text?.slice(0, 500)}\n  for ${describeRequest(spec)}`;
  if (res.status >= 500) throw new Error(`5xx: ${context()}`);
  if (!allowed.includes(res.status)) throw new Error(`status ${res.status} not in [${allowed.join(', ')}]: ${context()}`);
  if (res.status >= 400) {
    // Only errors are searched: a 2xx answer shows stored data, which may say anything.
    const leaks = leaksIn(res.text ?? '', () => `${spec.path} ${JSON.stringify(spec.headers ?? {})} ${spec.raw ? spec.raw.text : JSON.stringify(spec.json ?? '')}`);
    if (leaks.length > 0) throw new Error(`answer leaks ${leaks.join(', ')}: ${context()}`);
    if (!/^application\/problem\+json/.test(res.headers['content-type'] ?? '')) throw new Error(`4xx without problem+json: ${context()}`);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    if (body.status !== res.status) throw new Error(`problem status ${String(body.status)} is not the HTTP status: ${context()}`);
    for (const field of ['type', 'title', 'detail']) {
      if (typeof body[field] !== 'string' || (body[field] as string).length === 0) throw new Error(`problem without ${field}: ${context()}`);
    }
    if ('stack' in body) throw new Error(`problem with a stack: ${context()}`);
    return body;
  }
  return res.text ? (JSON.parse(res.text) as unknown) : undefined;
}

// ---------------------------------------------------------------------------
// Stored rows
// ---------------------------------------------------------------------------

/** Rows of every table a request may write: the service's tables and the delivery jobs (all states, dead letters too). */
export interface RowCounts {
  messages: number;
  conversations: number;
  opt_outs: number;
  idempotency_keys: number;
  early_receipts: number;
  jobs: number;
}

/** Counts the rows of RowCounts in one statement. */
export async function countRows(t: TestApp): Promise<RowCounts> {
  const [row]: RowCounts[] = await t.dataSource.query(
    `SELECT (SELECT count(*) FROM messages)::int AS messages,
            (SELECT count(*) FROM conversations)::int AS conversations,
            (SELECT count(*) FROM opt_outs)::int AS opt_outs,
            (SELECT count(*) FROM idempotency_keys)::int AS idempotency_keys,
            (SELECT count(*) FROM early_receipts)::int AS early_receipts,
            (SELECT count(*) FROM pgboss.job WHERE name LIKE 'message-delivery%')::int AS jobs`,
  );
  return row;
}

/** @returns the tables whose count differs from `expected`, with the difference; empty when none */
export function rowDiff(before: RowCounts, after: RowCounts, expectedDelta: Partial<RowCounts> = {}): Partial<RowCounts> {
  const diff: Partial<RowCounts> = {};
  for (const table of Object.keys(after) as (keyof RowCounts)[]) {
    const delta = after[table] - before[table] - (expectedDelta[table] ?? 0);
    if (delta !== 0) diff[table] = delta;
  }
  return diff;
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/** What one endpoint got: requests, their statuses, 5xx and rows stored that should not have been. */
export class EndpointStats {
  requests = 0;
  readonly statuses = new Map<number, number>();
  fiveXX = 0;
  strayRows = 0;

  constructor(readonly endpoint: string) {}

  record(status: number): void {
    this.requests++;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status >= 500) this.fiveXX++;
  }

  toString(): string {
    const histogram = [...this.statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ');
    return `${this.endpoint}: ${this.requests} requests {${histogram}}, 5xx: ${this.fiveXX}, stray rows: ${this.strayRows}`;
  }
}

/** Statistics of several endpoints, printed and checked at the end of a property file. */
export class SuiteStats {
  private readonly byEndpoint = new Map<string, EndpointStats>();

  of(endpoint: string): EndpointStats {
    let stats = this.byEndpoint.get(endpoint);
    if (!stats) this.byEndpoint.set(endpoint, (stats = new EndpointStats(endpoint)));
    return stats;
  }

  all(): EndpointStats[] {
    return [...this.byEndpoint.values()];
  }

  /** Prints one line per endpoint (console.log). */
  print(title: string): void {
    console.log(`${title} (PROPERTY_RUNS=${PROPERTY_RUNS}, PROPERTY_SEED=${PROPERTY_SEED})\n${this.all().map((s) => `  ${s.toString()}`).join('\n')}`);
  }
}

/**
 * Runs a property of requests that must store nothing: each generated value is turned
 * into a request (`toSpec`), sent, and its answer checked (`check`); rows are counted
 * every CHECK_EVERY requests (and after the last), and a change fails the property,
 * naming the requests since the last count.
 */
export async function assertStoresNothing<T>(
  t: TestApp,
  stats: EndpointStats,
  arb: fc.Arbitrary<T>,
  toSpec: (value: T) => RequestSpec | Promise<RequestSpec>,
  check: (res: Response, spec: RequestSpec, value: T) => unknown,
  params: fc.Parameters<unknown>,
): Promise<void> {
  let baseline = await countRows(t);
  let recent: RequestSpec[] = [];
  let strict = false; // after a stray row: count after every request
  const checkRows = async () => {
    const now = await countRows(t);
    const diff = rowDiff(baseline, now);
    const candidates = recent;
    baseline = now;
    recent = [];
    if (Object.keys(diff).length === 0) return;
    stats.strayRows += Object.values(diff).reduce((sum, n) => sum + Math.abs(n ?? 0), 0);
    strict = true;
    throw new Error(`stray rows ${JSON.stringify(diff)} after one of these requests:\n  ${candidates.map(describeRequest).join('\n  ')}`);
  };
  await fc.assert(
    fc.asyncProperty(arb, async (value) => {
      const spec = await toSpec(value);
      const res = await perform(t, spec);
      stats.record(res.status);
      recent.push(spec);
      await check(res, spec, value);
      if (strict || recent.length >= CHECK_EVERY) await checkRows();
    }),
    params,
  );
  await checkRows();
}

/**
 * Runs a property of malformed requests to one endpoint: each must pass checkAnswer()
 * with a status in `allowed`, and none may store a row (assertStoresNothing).
 */
export async function assertMalformedProperty(
  t: TestApp,
  stats: EndpointStats,
  arb: fc.Arbitrary<RequestSpec>,
  allowed: readonly number[],
  params: fc.Parameters<unknown>,
): Promise<void> {
  await assertStoresNothing(t, stats, arb, (spec) => spec, (res, spec) => checkAnswer(res, spec, allowed), params);
}
