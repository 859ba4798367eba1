/**
 * `npm run bench`: builds the service and measures, in one run on one database,
 * 1. accepted sends: the service (POST /api/messages/sms; a ROLE=api process, which
 *    accepts as the baseline does) against the baseline (plain Express + pg, one INSERT
 *    per request, bench/baseline-server.ts), A/B/A/B with autocannon, so that drift of a
 *    noisy machine falls on both; medians and their ratio; then one run with the client
 *    rate limit on and one of a ROLE=all process (it delivers what it accepts
 *    meanwhile), to show what each costs;
 * 2. delivery: N messages accepted by a ROLE=api process, then one ROLE=worker process
 *    delivers them to the mock providers (a process of their own, 5 ms latency): msg/s
 *    from the worker's first pick-up to the last `sent`;
 * 3. reads on the seeded database (1,000,000 messages in 50,000 conversations,
 *    `npm run bench:seed`, loaded here first when missing): first and deep pages, keyset
 *    (cursor) and page/per_page;
 * and the peak RSS of every service process. Prints a markdown table and writes
 * bench/results/<timestamp>.json. Options: BENCH_* variables (bench/lib/options.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { buildDataSourceOptions, migrateDatabase } from '../src/database/data-source-options';
import { openBenchDatabase, withClient, type BenchDatabase } from './lib/bench-database';
import { freePort } from '../test/support/free-port';
import { cpuMsPerRequest, measureCpu } from './lib/cpu';
import { median, runLoad, type LoadResult } from './lib/load';
import { benchOptionsFromEnv, type BenchOptions } from './lib/options';
import { runMain, startNodeProcess, stopAll, type BenchProcess } from './lib/processes';
import { sendBody } from './lib/send-body';
import { runReads, type ReadsReport } from './lib/reads';
import { currentSeed, resetToSeed, seed, seedSizeFromEnv, type SeedInfo } from './lib/seed';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const MOCK_MAIN = join(ROOT, 'dist', 'src', 'providers', 'mock', 'mock-provider.main.js');

const log = (line: string) => console.log(line);

/** V8 CPU profiles of the service processes go here (BENCH_CPU_PROF_DIR), when set. */
let cpuProfDir: string | undefined;

async function startService(name: string, db: BenchDatabase, env: Record<string, string>): Promise<BenchProcess> {
  const port = await freePort();
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${name.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`] : [];
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  return startNodeProcess(name, [...nodeArgs, ...prof, MAIN], { NODE_ENV: 'development', PORT: String(port), DATABASE_URL: db.url, ...env }, port, '/health/ready');
}

async function startBaseline(db: BenchDatabase): Promise<BenchProcess> {
  const port = await freePort();
  return startNodeProcess(
    'baseline',
    ['-r', 'ts-node/register/transpile-only', join(__dirname, 'baseline-server.ts')],
    { BASELINE_DATABASE_URL: db.url, BASELINE_PORT: String(port), BASELINE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '20' },
    port,
    '/health',
  );
}

function fmt(result: LoadResult): string {
  return `${result.reqPerS.toFixed(0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (${result.ok} ok, ${result.unexpected} other)`;
}

/** An accept run, with the CPU time per accepted send of the process under load, the mock providers and PostgreSQL (ms). */
type AcceptRun = LoadResult & { cpu_ms_per_request: Record<string, number> };

/**
 * One accept run of `target` (POST `path` for `durationS`), counting the CPU time the
 * target, the mock providers (they receive what a ROLE=all process delivers meanwhile)
 * and a local PostgreSQL use.
 */
async function acceptRun(opts: BenchOptions, db: BenchDatabase, target: BenchProcess, mock: BenchProcess, path: string, durationS: number): Promise<AcceptRun> {
  const { result, cpuSeconds } = await measureCpu({ process: target.child.pid, mock: mock.child.pid }, db.local, () =>
    runLoad({ url: `${target.baseUrl}${path}`, method: 'POST', body: sendBody, connections: opts.connections, durationS, expectStatus: 202 }),
  );
  return { ...result, cpu_ms_per_request: cpuMsPerRequest(cpuSeconds, result.ok) };
}

/** Median CPU ms per request of each part over `runs`. */
function medianCpu(runs: AcceptRun[]): Record<string, number> {
  return Object.fromEntries(Object.keys(runs[0]?.cpu_ms_per_request ?? {}).map((name) => [name, median(runs.map((r) => r.cpu_ms_per_request[name]))]));
}

/** "0.41 + 0.25 ms" style: the process, then PostgreSQL, then the mock when it worked. */
function fmtCpu(cpu: Record<string, number>): string {
  const parts = [`${cpu.process?.toFixed(2)} process`];
  if (cpu.postgres !== undefined) parts.push(`${cpu.postgres.toFixed(2)} PostgreSQL`);
  if (cpu.mock >= 0.005) parts.push(`${cpu.mock.toFixed(2)} mock`);
  return `${parts.join(' + ')} ms`;
}

/**
 * Accept runs: service and baseline in turn, `rounds` times. `settle` runs after each
 * service run (a ROLE=all service: until it has delivered what it accepted, so that the
 * baseline's run does not share the machine with those deliveries).
 */
async function acceptRuns(opts: BenchOptions, db: BenchDatabase, service: BenchProcess, baseline: BenchProcess, mock: BenchProcess, settle: () => Promise<unknown>) {
  log('Warming up (3 s each)');
  await acceptRun(opts, db, service, mock, '/api/messages/sms', 3);
  await settle();
  await acceptRun(opts, db, baseline, mock, '/messages', 3);
  const serviceRuns: AcceptRun[] = [];
  const baselineRuns: AcceptRun[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const a = await acceptRun(opts, db, service, mock, '/api/messages/sms', opts.durationS);
    log(`  A${round} service:  ${fmt(a)}; CPU per send ${fmtCpu(a.cpu_ms_per_request)}`);
    serviceRuns.push(a);
    await settle();
    const b = await acceptRun(opts, db, baseline, mock, '/messages', opts.durationS);
    log(`  B${round} baseline: ${fmt(b)}; CPU per send ${fmtCpu(b.cpu_ms_per_request)}`);
    baselineRuns.push(b);
  }
  return { serviceRuns, baselineRuns };
}

/**
 * Accept runs A/B/A/B, then (unless skipped) one run with the client rate limit on, and
 * one of the other role (ROLE=all after ROLE=api A/B runs, and the reverse).
 */
async function acceptPhase(opts: BenchOptions, db: BenchDatabase, seedInfo: SeedInfo, mock: BenchProcess, rss: Map<string, number>, processes: BenchProcess[]) {
  // A ROLE=all process delivers what it accepted after each run: wait for that, so that
  // the next run does not share the machine with those deliveries.
  const settleFor = (role: 'all' | 'api') => (role === 'all' ? waitForDelivered(db, seedInfo.maxMessageId, 600_000) : Promise.resolve(0));
  /** One run of a fresh service process, after 3 s of warm-up (each followed by settleFor). */
  const singleRun = async (name: string, role: 'all' | 'api', rateLimitRequests: number): Promise<AcceptRun> => {
    const single = await startService(name, db, { ROLE: role, RATE_LIMIT_REQUESTS: String(rateLimitRequests), MOCK_PROVIDER_URL: mock.baseUrl });
    processes.push(single);
    await acceptRun(opts, db, single, mock, '/api/messages/sms', 3);
    await settleFor(role);
    const r = await acceptRun(opts, db, single, mock, '/api/messages/sms', opts.durationS);
    rss.set(`${name} (accept)`, single.peakRssMb());
    await settleFor(role);
    await single.stop();
    return r;
  };

  log(`Accept: service (ROLE=${opts.acceptRole}, RATE_LIMIT_REQUESTS=0: rate limit off) vs baseline, ${opts.connections} connections, ${opts.durationS} s per run, A/B x ${opts.rounds}`);
  const service = await startService(`service ROLE=${opts.acceptRole}`, db, { ROLE: opts.acceptRole, RATE_LIMIT_REQUESTS: '0', MOCK_PROVIDER_URL: mock.baseUrl });
  processes.push(service);
  const baseline = await startBaseline(db);
  processes.push(baseline);
  const { serviceRuns, baselineRuns } = await acceptRuns(opts, db, service, baseline, mock, () => settleFor(opts.acceptRole));
  rss.set(`service ROLE=${opts.acceptRole} (accept)`, service.peakRssMb());
  await baseline.stop();
  const serviceReq = median(serviceRuns.map((r) => r.reqPerS));
  const baselineReq = median(baselineRuns.map((r) => r.reqPerS));
  if (opts.acceptRole === 'all') log('Waiting for the worker to deliver what the accept runs queued');
  await settleFor(opts.acceptRole);
  await service.stop();
  let rateLimitOn: Record<string, unknown> | null = null;
  if (!opts.skipRateLimit) {
    const limit = 1_000_000;
    log(`Accept with the client rate limit on (RATE_LIMIT_REQUESTS=${limit} per 60 s: every request counted in PostgreSQL, none refused), ${opts.durationS} s`);
    const r = await singleRun('service, rate limit on', opts.acceptRole, limit);
    log(`  rate limit on: ${fmt(r)}; CPU per send ${fmtCpu(r.cpu_ms_per_request)}`);
    rateLimitOn = {
      limit_note: `${limit.toLocaleString('en-US')}/60 s, one caller`,
      req_per_s: Math.round(r.reqPerS),
      p50_ms: r.p50Ms,
      p99_ms: r.p99Ms,
      ratio_to_baseline: r.reqPerS / baselineReq,
      ratio_to_rate_limit_off: r.reqPerS / serviceReq,
      cpu_ms_per_request: r.cpu_ms_per_request,
    };
  }
  const otherRole = opts.acceptRole === 'api' ? 'all' : 'api';
  log(`Accept by a ROLE=${otherRole} process (${otherRole === 'all' ? 'delivering what it accepts meanwhile' : 'no delivery in it'}), ${opts.durationS} s`);
  const o = await singleRun(`service ROLE=${otherRole}`, otherRole, 0);
  log(`  ROLE=${otherRole}: ${fmt(o)}; CPU per send ${fmtCpu(o.cpu_ms_per_request)}`);
  const otherRoleRun = { role: otherRole, req_per_s: Math.round(o.reqPerS), p50_ms: o.p50Ms, p99_ms: o.p99Ms, ratio_to_baseline: o.reqPerS / baselineReq, cpu_ms_per_request: o.cpu_ms_per_request };
  const medianOf = (pick: (r: LoadResult) => number) => median(serviceRuns.map(pick));
  return {
    otherRoleRun,
    accept: { req_per_s: Math.round(serviceReq), p50_ms: medianOf((r) => r.p50Ms), p99_ms: medianOf((r) => r.p99Ms), role: opts.acceptRole, cpu_ms_per_request: medianCpu(serviceRuns), runs: serviceRuns },
    baseline: { req_per_s: Math.round(baselineReq), p50_ms: median(baselineRuns.map((r) => r.p50Ms)), p99_ms: median(baselineRuns.map((r) => r.p99Ms)), cpu_ms_per_request: medianCpu(baselineRuns), runs: baselineRuns },
    ratio: serviceReq / baselineReq,
    rateLimitOn,
  };
}

/** Waits until every outbound message of the bench (ids above `afterId`) is out of queued/sending; returns how long it took. */
async function waitForDelivered(db: BenchDatabase, afterId: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return withClient(db.url, async (c) => {
    for (;;) {
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM messages WHERE id > $1 AND status IN ('queued', 'sending')`, [afterId]);
      if (rows[0].n === 0) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`${rows[0].n} messages still pending after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

async function maxMessageId(db: BenchDatabase): Promise<string> {
  return withClient(db.url, async (c) => String((await c.query(`SELECT COALESCE(max(id), 0) AS id FROM messages`)).rows[0].id));
}

/**
 * Delivery: `n` sends accepted by a ROLE=api process (nothing delivers them yet), then a
 * ROLE=worker process delivers them to the mock at `latencyMs`. The rate is `n` over
 * the time from the worker's first pick-up of a job (pg-boss started_on) to the last
 * message's sent_at, both on the database clock.
 */
async function deliveryRun(opts: BenchOptions, db: BenchDatabase, mockUrl: string, rss: Map<string, number>) {
  const before = await maxMessageId(db);
  const api = await startService('service ROLE=api', db, { ROLE: 'api', RATE_LIMIT_REQUESTS: '0' });
  log(`Delivery: accepting ${opts.deliveryMessages.toLocaleString('en-US')} messages (ROLE=api, nothing delivers yet)`);
  const accepted = await runLoad({
    url: `${api.baseUrl}/api/messages/sms`, method: 'POST', body: sendBody, connections: opts.connections, amount: opts.deliveryMessages, expectStatus: 202,
  });
  log(`  accepted: ${fmt(accepted)}`);
  rss.set('service ROLE=api (delivery enqueue)', api.peakRssMb());
  await api.stop();
  log(`Delivery: starting a ROLE=worker process (mock provider latency ${opts.providerLatencyMs} ms)`);
  const spawned = Date.now();
  const worker = await startService('service ROLE=worker', db, { ROLE: 'worker', MOCK_PROVIDER_URL: mockUrl });
  await waitForDelivered(db, before, 600_000);
  const totalMs = Date.now() - spawned;
  rss.set('service ROLE=worker (delivery)', worker.peakRssMb());
  await worker.stop();
  const stats = await withClient(db.url, async (c) => {
    const { rows } = await c.query(
      `SELECT count(*) FILTER (WHERE m.status = 'sent')::int AS sent,
              count(*) FILTER (WHERE m.status <> 'sent')::int AS other,
              EXTRACT(EPOCH FROM max(m.sent_at) - (SELECT min(j.started_on) FROM pgboss.job j WHERE j.name = 'message-delivery'
                                                     AND (j.data->>'messageId')::bigint > $1)) * 1000 AS window_ms
         FROM messages m WHERE m.id > $1`,
      [before],
    );
    return rows[0] as { sent: number; other: number; window_ms: string };
  });
  const windowMs = Number(stats.window_ms);
  const result = {
    messages: opts.deliveryMessages,
    provider_latency_ms: opts.providerLatencyMs,
    sent: stats.sent,
    not_sent: stats.other,
    window_ms: Math.round(windowMs),
    msg_per_s: Math.round((stats.sent / windowMs) * 1000),
    wall_ms_from_worker_spawn: totalMs,
    enqueue_req_per_s: Math.round(accepted.reqPerS),
    concurrency: Number(process.env.DELIVERY_CONCURRENCY ?? 200),
  };
  log(`  delivered ${result.sent} (${result.not_sent} not sent) in ${result.window_ms} ms from first pick-up: ${result.msg_per_s} msg/s`);
  return result;
}

async function ensureSeed(db: BenchDatabase, opts: BenchOptions): Promise<{ info: SeedInfo; loadedNow: boolean }> {
  const size = seedSizeFromEnv();
  return withClient(db.url, async (c) => {
    const existing = await currentSeed(c);
    if (!opts.reseed && existing && existing.messages === size.messages && existing.conversations === size.conversations) {
      log(`Seed present: ${existing.messages.toLocaleString('en-US')} messages in ${existing.conversations.toLocaleString('en-US')} conversations (loaded in ${existing.seconds.toFixed(1)} s on ${existing.seededAt})`);
      return { info: existing, loadedNow: false };
    }
    log(`Seeding ${size.messages.toLocaleString('en-US')} messages in ${size.conversations.toLocaleString('en-US')} conversations`);
    const info = await seed(c, size, log);
    log(`  seeded in ${info.seconds.toFixed(1)} s`);
    return { info, loadedNow: true };
  });
}

function markdownTable(report: Record<string, any>): string {
  const t = report.targets;
  const ok = (pass: boolean | null) => (pass === null ? '' : pass ? 'yes' : '**no**');
  const rows: string[][] = [];
  const a = report.accept;
  if (a) {
    rows.push(
      [`accepted sends (service ROLE=${a.role}, median of ${a.runs.length})`, `${a.req_per_s} req/s`, '', ''],
      [`baseline (Express + pg, 1 INSERT, median of ${report.baseline.runs.length})`, `${report.baseline.req_per_s} req/s`, '', ''],
      ['ratio service / baseline', report.ratio.toFixed(2), '>= 0.70', ok(t.ratio)],
      ['accept p50 latency (median)', `${a.p50_ms} ms`, '', ''],
      [`accept p99 latency (median, ${report.config.connections} connections)`, `${a.p99_ms} ms`, '<= 50 ms', ok(t.p99)],
      [`CPU per accepted send, service ROLE=${a.role} (median)`, fmtCpu(a.cpu_ms_per_request), '', ''],
      ['CPU per accepted send, baseline (median)', fmtCpu(report.baseline.cpu_ms_per_request), '', ''],
    );
    if (report.accept_other_role) {
      const r = report.accept_other_role;
      const what = r.role === 'all' ? 'delivering what it accepts in the same process' : 'no delivery in the process';
      rows.push([`accepted sends, ROLE=${r.role} (${what}, 1 run)`, `${r.req_per_s} req/s (${r.ratio_to_baseline.toFixed(2)}x baseline), p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms; CPU per send ${fmtCpu(r.cpu_ms_per_request)}`, '', '']);
    }
    if (report.rate_limit_on) {
      const r = report.rate_limit_on;
      rows.push([`accepted sends, rate limit on (${r.limit_note})`, `${r.req_per_s} req/s (${r.ratio_to_baseline.toFixed(2)}x baseline), p99 ${r.p99_ms} ms`, '', '']);
    }
  }
  if (report.delivery) {
    const d = report.delivery;
    rows.push([`delivery (${d.messages.toLocaleString('en-US')} msgs, mock ${d.provider_latency_ms} ms, 1 worker)`, `${d.msg_per_s} msg/s`, '>= 1,000', ok(t.delivery)]);
  }
  if (report.reads) {
    rows.push([`reads p99 (cursor, first and deep pages, ${report.reads.connections} connections)`, `${report.reads.p99_ms} ms`, '<= 20 ms', ok(t.reads)]);
    if (report.reads.baseline_p99_ms !== null) {
      rows.push([`reads p99 of the baseline (Express + pg, one SELECT; conversation 1 messages, first and deep page)`, `${report.reads.baseline_p99_ms} ms`, '', '']);
    }
  }
  rows.push(
    ['peak RSS of a service process', `${report.rss_mb} MB`, '<= 200 MB', ok(t.rss)],
    [`seed (${report.seed.messages.toLocaleString('en-US')} msgs, ${report.seed.conversations.toLocaleString('en-US')} conversations)`, `${report.seed.seconds.toFixed(1)} s`, '', ''],
  );
  const lines = ['| measure | result | target | met |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)];
  if (report.reads) {
    lines.push('', '| read: p99 / p50, req/s | cursor | page/per_page | baseline (Express + pg) |', '|---|---|---|---|');
    for (const s of report.reads.scenarios as ReadsReport['scenarios']) {
      const cell = (r?: { p99_ms: number; p50_ms: number; req_per_s: number }) => (r ? `${r.p99_ms} / ${r.p50_ms} ms, ${r.req_per_s}/s` : 'n/a');
      lines.push(`| ${s.name} | ${cell(s.cursor)} | ${cell(s.page)} | ${cell(s.baseline)} |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opts = benchOptionsFromEnv();
  cpuProfDir = opts.cpuProfDir;
  const startedAt = new Date();
  if (!opts.skipBuild) {
    log('Building the service (nest build)');
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  const db = await openBenchDatabase();
  log(`Database: ${db.description}`);
  const processes: BenchProcess[] = [];
  try {
    const ran = await migrateDatabase(buildDataSourceOptions(db.url));
    if (ran.length) log(`Migrated: ${ran.join(', ')}`);
    const { info: seedInfo } = await ensureSeed(db, opts);
    await withClient(db.url, async (c) => {
      const removed = await resetToSeed(c, seedInfo);
      if (removed) log(`Removed ${removed.toLocaleString('en-US')} messages of earlier bench runs`);
      await c.query('DROP TABLE IF EXISTS bench_baseline_messages');
      await c.query('CREATE TABLE bench_baseline_messages (LIKE messages INCLUDING ALL)');
    });

    const mockPort = await freePort();
    const mock = await startNodeProcess('mock providers', [MOCK_MAIN], { MOCK_PROVIDER_PORT: String(mockPort), MOCK_PROVIDER_LATENCY_MS: String(opts.providerLatencyMs) }, mockPort, '/health');
    processes.push(mock);
    const rss = new Map<string, number>();

    let accept: Awaited<ReturnType<typeof acceptPhase>> | null = null;
    if (opts.only.has('accept')) accept = await acceptPhase(opts, db, seedInfo, mock, rss, processes);
    const delivery = opts.only.has('delivery') ? await deliveryRun(opts, db, mock.baseUrl, rss) : null;
    let reads: ReadsReport | null = null;
    if (opts.only.has('reads')) {
      log(`Reads: ${opts.readConnections} connections, ${opts.readDurationS} s per scenario`);
      const reader = await startService('service ROLE=api (reads)', db, { ROLE: 'api', RATE_LIMIT_REQUESTS: '0' });
      processes.push(reader);
      const baseline = await startBaseline(db);
      processes.push(baseline);
      reads = await runReads(reader.baseUrl, db, seedInfo, { connections: opts.readConnections, durationS: opts.readDurationS }, log, baseline.baseUrl);
      rss.set('service ROLE=api (reads)', reader.peakRssMb());
      await reader.stop();
      await baseline.stop();
    }

    const rssMb = Math.round(Math.max(...rss.values()));
    const report = {
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, database: db.description, load_average: os.loadavg() },
      config: { ...opts, only: [...opts.only], pool_size: Number(process.env.DATABASE_POOL_SIZE ?? 20), delivery_concurrency: Number(process.env.DELIVERY_CONCURRENCY ?? 200), node_args: process.env.BENCH_NODE_ARGS ?? '', rate_limit: 'off (RATE_LIMIT_REQUESTS=0) except in rate_limit_on' },
      accept: accept?.accept ?? null,
      baseline: accept?.baseline ?? null,
      ratio: accept?.ratio ?? null,
      rate_limit_on: accept?.rateLimitOn ?? null,
      accept_other_role: accept?.otherRoleRun ?? null,
      delivery,
      reads,
      rss_mb: rssMb,
      rss_by_process_mb: Object.fromEntries([...rss].map(([k, v]) => [k, Math.round(v)])),
      seed: { messages: seedInfo.messages, conversations: seedInfo.conversations, seconds: seedInfo.seconds, seeded_at: seedInfo.seededAt },
      targets: {
        ratio: accept ? accept.ratio >= 0.7 : null,
        p99: accept ? accept.accept.p99_ms <= 50 : null,
        delivery: delivery ? delivery.msg_per_s >= 1000 : null,
        reads: reads ? reads.p99_ms <= 20 : null,
        rss: rssMb <= 200,
      },
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const file = join(__dirname, 'results', `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2));
    log('');
    log(markdownTable(report));
    log('');
    log(`Rate limit: off for the accept runs (RATE_LIMIT_REQUESTS=0); the "rate limit on" row counts every request.`);
    log(`Results: ${file}`);
  } finally {
    await stopAll(processes, db);
  }
}

runMain(main);
