/**
 * `npm run bench:compare -- <build dir> <build dir> [...]`: measures builds of the
 * service against each other on the bench database, for the "before / after" of a
 * change. Each build is a `tsc -p tsconfig.build.json --outDir <dir>` output inside the
 * repository (so that node_modules resolve), e.g.
 *   git worktree add .ab/before HEAD~1 && (cd .ab/before && npx tsc -p tsconfig.build.json --outDir ../before-dist)
 *   npx tsc -p tsconfig.build.json --outDir .ab/after-dist
 *   npm run bench:compare -- .ab/before-dist .ab/after-dist
 *
 * Every run starts a fresh service process of one build (ROLE from COMPARE_ROLE, `api`
 * by default; the mock providers in a process of their own), after the database was
 * reset to the seed, and measures, after 3 s of warm-up:
 * - sends (default): POST /api/messages/sms, COMPARE_CONNECTIONS (32) connections for
 *   COMPARE_DURATION_S (10) s: req/s, p50/p99, and the CPU time per accepted send of the
 *   service process, the mock providers and a local PostgreSQL (bench/lib/cpu.ts);
 * - reads, with COMPARE_READ_PATHS (comma-separated GET paths, such as
 *   `/api/conversations/1/messages?cursor=&per_page=50`): 8 connections each.
 * The client rate limit is off unless COMPARE_RATE_LIMIT_REQUESTS (requests a minute)
 * turns it on. The builds run in turn COMPARE_ROUNDS (3) times, in reverse order every other round:
 * on these machines the first process of a round is often slower, whatever its build.
 * Prints every run and, per build, the medians. Needs the seed (`npm run bench:seed`).
 */
import { join, resolve } from 'node:path';
import { freePort } from '../test/support/free-port';
import { openBenchDatabase, withClient } from './lib/bench-database';
import { cpuMsPerRequest, measureCpu } from './lib/cpu';
import { median, runLoad } from './lib/load';
import { intFromEnv } from './lib/options';
import { runMain, startNodeProcess, stopAll, type BenchProcess } from './lib/processes';
import { currentSeed, resetToSeed } from './lib/seed';
import { sendBody } from './lib/send-body';

const ROOT = join(__dirname, '..');

interface Measurement {
  what: string;
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU ms per answered request, by process (process, mock, postgres). */
  cpuMs: Record<string, number>;
}

async function main(): Promise<void> {
  const builds = process.argv.slice(2);
  if (builds.length < 1) throw new Error('Usage: npm run bench:compare -- <build dir> <build dir> [...] (tsc outDirs inside the repository)');
  const role = process.env.COMPARE_ROLE ?? 'api';
  const rounds = intFromEnv(process.env, 'COMPARE_ROUNDS', 3, 1);
  const durationS = intFromEnv(process.env, 'COMPARE_DURATION_S', 10, 1);
  const connections = intFromEnv(process.env, 'COMPARE_CONNECTIONS', 32, 1);
  const rateLimitRequests = String(intFromEnv(process.env, 'COMPARE_RATE_LIMIT_REQUESTS', 0, 0));
  const readPaths = (process.env.COMPARE_READ_PATHS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const db = await openBenchDatabase();
  const processes: BenchProcess[] = [];
  try {
    const seed = await withClient(db.url, (c) => currentSeed(c));
    if (!seed) throw new Error('The bench database holds no seed: run `npm run bench:seed` first');
    const mockPort = await freePort();
    const mock = await startNodeProcess('mock providers', [join(ROOT, 'dist', 'src', 'providers', 'mock', 'mock-provider.main.js')], { MOCK_PROVIDER_PORT: String(mockPort), MOCK_PROVIDER_LATENCY_MS: '5' }, mockPort, '/health');
    processes.push(mock);
    const results = new Map<string, Measurement[]>(builds.map((b) => [b, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const build of round % 2 === 1 ? builds : [...builds].reverse()) {
        await withClient(db.url, (c) => resetToSeed(c, seed));
        const port = await freePort();
        const service = await startNodeProcess(build, [join(resolve(build), 'src', 'main.js')], {
          NODE_ENV: 'development', ROLE: role, PORT: String(port), DATABASE_URL: db.url, RATE_LIMIT_REQUESTS: rateLimitRequests, MOCK_PROVIDER_URL: mock.baseUrl,
        }, port, '/health/ready');
        processes.push(service);
        const measure = async (what: string, load: (seconds: number) => ReturnType<typeof runLoad>) => {
          await load(3);
          const { result, cpuSeconds } = await measureCpu({ process: service.child.pid, mock: mock.child.pid }, db.local, () => load(durationS));
          const cpuMs = cpuMsPerRequest(cpuSeconds, result.ok);
          const m: Measurement = { what, reqPerS: result.reqPerS, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMs };
          results.get(build)!.push(m);
          const cpu = Object.entries(cpuMs).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
          console.log(`round ${round} ${build} ${what}: ${result.reqPerS.toFixed(0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms; CPU ms per request: ${cpu}; peak RSS so far ${Math.round(service.peakRssMb())} MB`);
        };
        if (readPaths.length === 0) {
          await measure('sends', (s) => runLoad({ url: `${service.baseUrl}/api/messages/sms`, method: 'POST', body: sendBody, connections, durationS: s, expectStatus: 202 }));
        }
        for (const path of readPaths) {
          await measure(path, (s) => runLoad({ url: `${service.baseUrl}${path}`, connections: 8, durationS: s, expectStatus: 200 }));
        }
        await service.stop();
      }
    }
    console.log('\nMedians per build:');
    for (const [build, runs] of results) {
      for (const what of [...new Set(runs.map((r) => r.what))]) {
        const of = runs.filter((r) => r.what === what);
        const cpu = Object.keys(of[0].cpuMs).map((k) => `${k} ${median(of.map((r) => r.cpuMs[k])).toFixed(3)}`).join(', ');
        console.log(`  ${build} ${what}: ${median(of.map((r) => r.reqPerS)).toFixed(0)} req/s (${of.map((r) => r.reqPerS.toFixed(0)).join(', ')}), p99 ${median(of.map((r) => r.p99Ms))} ms; CPU ms per request: ${cpu}`);
      }
    }
  } finally {
    await stopAll(processes, db);
  }
}

runMain(main);
