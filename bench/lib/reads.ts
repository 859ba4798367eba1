import { type BenchDatabase, withClient } from './bench-database';
import { runLoad } from './load';
import type { SeedInfo } from './seed';

/** One read measured with autocannon. */
export interface ReadResult {
  url: string;
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  unexpected: number;
}

/** A list page, read with a cursor (keyset) and with page/per_page (offset). */
export interface ReadScenario {
  name: string;
  /** Part of the targets (conversations and a conversation's messages): counts in reads.p99_ms. */
  target: boolean;
  cursor?: ReadResult;
  page?: ReadResult;
  /** The same page from the baseline server (plain Express + pg, one keyset SELECT), when it has one. */
  baseline?: ReadResult;
}

export interface ReadsReport {
  /** Highest p99 of the target scenarios (cursor pagination), ms. */
  p99_ms: number;
  /** Highest p99 of the baseline server on the pages it serves (a conversation's messages), ms; null without one. */
  baseline_p99_ms: number | null;
  connections: number;
  duration_s: number;
  scenarios: ReadScenario[];
  /** Pages followed through Link rel="next" to reach the deep cursors, and how long that took. */
  walked: Record<string, { pages: number; ms: number }>;
}

/** @returns the URL of the Link relation `rel`, or undefined */
export function linkOf(header: string | null, rel: string): string | undefined {
  for (const part of (header ?? '').split(/,(?=\s*<)/)) {
    const match = /<([^>]*)>\s*;\s*rel="([^"]*)"/.exec(part.trim());
    if (match && match[2].split(/\s+/).includes(rel)) return match[1];
  }
  return undefined;
}

/**
 * Follows Link rel="next" from `start` (a cursor URL) until `depth` rows are behind,
 * checking that every page is full and holds no row twice.
 * @returns the path of the page that starts at row `depth` (0-based), with per_page `perPage`
 */
async function walk(baseUrl: string, start: string, depth: number, perPage: number): Promise<{ path: string; pages: number; ms: number }> {
  const started = Date.now();
  const seen = new Set<number>();
  let path = start;
  let pages = 0;
  while (seen.size < depth) {
    const res = await fetch(`${baseUrl}${path}`);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    const rows = (await res.json()) as { id: number }[];
    for (const row of rows) {
      if (seen.has(row.id)) throw new Error(`GET ${path}: row ${row.id} came twice while following rel="next"`);
      seen.add(row.id);
    }
    pages++;
    const next = linkOf(res.headers.get('link'), 'next');
    if (!next) throw new Error(`GET ${path}: no rel="next" after ${seen.size} rows (wanted ${depth})`);
    path = next;
  }
  const url = new URL(path, baseUrl);
  url.searchParams.set('per_page', String(perPage));
  return { path: `${url.pathname}${url.search}`, pages, ms: Date.now() - started };
}

/** @throws Error unless both URLs answer the same messages, in the same order (the baseline reads what the service does) */
async function sameRows(serviceUrl: string, baselineUrl: string): Promise<void> {
  const ids = async (url: string) => ((await (await fetch(url)).json()) as { id: number }[]).map((m) => m.id).join(',');
  const [service, baseline] = await Promise.all([ids(serviceUrl), ids(baselineUrl)]);
  if (service !== baseline) throw new Error(`The baseline's page differs from the service's:\n${baselineUrl}: ${baseline}\n${serviceUrl}: ${service}`);
}

/** @returns true when the endpoint answers `cursor=` with a cursor link (keyset pagination is there) */
async function supportsCursor(baseUrl: string, path: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}${path}${path.includes('?') ? '&' : '?'}cursor=`);
  const next = linkOf(res.headers.get('link'), 'next');
  return res.status === 200 && next !== undefined && !!new URL(next, baseUrl).searchParams.get('cursor');
}

/**
 * Reads on the seeded database: for the conversations, conversation 1's messages (one of
 * the seed's big conversations) and all messages, the first page and a deep page (row
 * 40,000 of the conversations, 10,000 of the conversation, 100,000 of all messages),
 * each with a cursor (reached by following rel="next" links) and with page/per_page;
 * with `baselineUrl`, conversation 1's first and deep pages from the baseline server
 * too, measured right after the service's: the floor of this machine for that read.
 */
export async function runReads(
  baseUrl: string,
  db: BenchDatabase,
  seed: SeedInfo,
  load: { connections: number; durationS: number },
  log: (line: string) => void,
  baselineUrl?: string,
): Promise<ReadsReport> {
  // Like the accept runs, each is measured after 3 s of warm-up on the same path: its first
  // requests run code V8 has not optimised yet, or not for this path's data.
  const measure = async (path: string, server = baseUrl): Promise<ReadResult> => {
    await runLoad({ url: `${server}${path}`, connections: load.connections, durationS: 3, expectStatus: 200 });
    const r = await runLoad({ url: `${server}${path}`, connections: load.connections, durationS: load.durationS, expectStatus: 200 });
    return { url: path, req_per_s: Math.round(r.reqPerS), p50_ms: r.p50Ms, p99_ms: r.p99Ms, max_ms: r.maxMs, unexpected: r.unexpected };
  };
  const bigMessages = Math.floor((seed.messages * seed.bigShare) / seed.big);
  const lists = [
    { name: 'conversations', path: '/api/conversations', perPage: 20, depth: Math.min(40_000, seed.conversations - 100), target: true },
    { name: 'conversation 1 messages', path: '/api/conversations/1/messages', perPage: 50, depth: Math.min(10_000, bigMessages - 100), target: true, conversationId: 1 },
    { name: 'all messages', path: '/api/messages', perPage: 50, depth: Math.min(100_000, seed.messages - 100), target: false },
  ];
  const scenarios: ReadScenario[] = [];
  const walked: ReadsReport['walked'] = {};
  for (const list of lists) {
    const cursor = await supportsCursor(baseUrl, list.path);
    const first: ReadScenario = { name: `${list.name}, first page`, target: list.target };
    const deep: ReadScenario = { name: `${list.name}, deep page (row ${list.depth.toLocaleString('en-US')})`, target: list.target };
    if (cursor) {
      first.cursor = await measure(`${list.path}?cursor=&per_page=${list.perPage}`);
      const reached = await walk(baseUrl, `${list.path}?cursor=&per_page=100`, list.depth, list.perPage);
      walked[list.name] = { pages: reached.pages, ms: reached.ms };
      deep.cursor = await measure(reached.path);
    }
    if (baselineUrl && 'conversationId' in list) {
      const path = `/conversations/${list.conversationId}/messages?per_page=${list.perPage}`;
      first.baseline = await measure(path, baselineUrl);
      const after = await withClient(db.url, async (c) =>
        (await c.query<{ time: string; id: string }>(
          `SELECT to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time, id::text AS id
             FROM messages WHERE conversation_id = $1 ORDER BY "timestamp", id OFFSET $2 LIMIT 1`,
          [list.conversationId, list.depth - 1],
        )).rows[0],
      );
      const deepPath = `${path}&after_time=${encodeURIComponent(after.time)}&after_id=${after.id}`;
      await sameRows(`${baseUrl}${first.cursor!.url}`, `${baselineUrl}${path}`);
      await sameRows(`${baseUrl}${deep.cursor!.url}`, `${baselineUrl}${deepPath}`);
      deep.baseline = await measure(deepPath, baselineUrl);
    }
    first.page = await measure(`${list.path}?page=1&per_page=${list.perPage}`);
    deep.page = await measure(`${list.path}?page=${Math.floor(list.depth / list.perPage) + 1}&per_page=${list.perPage}`);
    for (const s of [first, deep]) {
      const base = s.baseline ? `; baseline p99 ${s.baseline.p99_ms} ms, ${s.baseline.req_per_s}/s` : '';
      log(`  ${s.name}: cursor ${s.cursor ? `p99 ${s.cursor.p99_ms} ms, ${s.cursor.req_per_s}/s` : 'n/a'}; page p99 ${s.page!.p99_ms} ms, ${s.page!.req_per_s}/s${base}`);
      scenarios.push(s);
    }
  }
  const targetP99s = scenarios.filter((s) => s.target).map((s) => (s.cursor ?? s.page)!.p99_ms);
  const baselineP99s = scenarios.flatMap((s) => (s.baseline ? [s.baseline.p99_ms] : []));
  return {
    p99_ms: Math.max(...targetP99s),
    baseline_p99_ms: baselineP99s.length > 0 ? Math.max(...baselineP99s) : null,
    connections: load.connections,
    duration_s: load.durationS,
    scenarios,
    walked,
  };
}
