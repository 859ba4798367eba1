/** What `npm run bench` does, from BENCH_* variables (each optional). */
export interface BenchOptions {
  /** Seconds of each accept run (BENCH_DURATION_S, 15). */
  durationS: number;
  /** autocannon connections of the accept runs (BENCH_CONNECTIONS, 32). */
  connections: number;
  /** A/B pairs of the accept runs (BENCH_ROUNDS, 2: A/B/A/B). */
  rounds: number;
  /** Messages of the delivery run (BENCH_DELIVERY_MESSAGES, 10,000). */
  deliveryMessages: number;
  /** Mock provider latency of the delivery run, ms (BENCH_PROVIDER_LATENCY_MS, 5). */
  providerLatencyMs: number;
  /** Seconds of each read scenario (BENCH_READ_DURATION_S, 10). */
  readDurationS: number;
  /** autocannon connections of the read runs (BENCH_READ_CONNECTIONS, 8). */
  readConnections: number;
  /**
   * ROLE of the service during the A/B accept runs (BENCH_ACCEPT_ROLE, api: a process that
   * accepts, as the baseline does; its deliveries are the delivery phase's). One run of
   * the other role follows (all: accepting while the same process delivers).
   */
  acceptRole: 'all' | 'api';
  /** Skip `nest build` (BENCH_SKIP_BUILD=1) when dist/ is current. */
  skipBuild: boolean;
  /** Load the seed again even when the database holds one of the right size (BENCH_RESEED=1). */
  reseed: boolean;
  /** Skip the run with the rate limit on (BENCH_SKIP_RATE_LIMIT=1). */
  skipRateLimit: boolean;
  /** Phases to run (BENCH_ONLY, comma-separated: accept, delivery, reads; default all three). */
  only: Set<'accept' | 'delivery' | 'reads'>;
  /** Directory for V8 CPU profiles of the service processes (BENCH_CPU_PROF_DIR; node --cpu-prof), or undefined. */
  cpuProfDir?: string;
}

/** An integer variable `name` of `env`, at least `min`; `fallback` when unset or empty. @throws Error for another value */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

const flag = (env: NodeJS.ProcessEnv, name: string) => env[name] === '1' || env[name] === 'true';

const PHASES = ['accept', 'delivery', 'reads'] as const;

function phasesFrom(raw: string | undefined): Set<(typeof PHASES)[number]> {
  if (!raw) return new Set(PHASES);
  const names = raw.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(PHASES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown phase(s) ${unknown.join(', ')} (known: ${PHASES.join(', ')})`);
  return new Set(names as (typeof PHASES)[number][]);
}

/** Reads the BENCH_* variables; throws on an invalid one. */
export function benchOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const acceptRole = env.BENCH_ACCEPT_ROLE || 'api';
  if (acceptRole !== 'all' && acceptRole !== 'api') throw new Error('BENCH_ACCEPT_ROLE must be all or api');
  return {
    durationS: intFromEnv(env, 'BENCH_DURATION_S', 15, 1),
    connections: intFromEnv(env, 'BENCH_CONNECTIONS', 32, 1),
    rounds: intFromEnv(env, 'BENCH_ROUNDS', 2, 1),
    deliveryMessages: intFromEnv(env, 'BENCH_DELIVERY_MESSAGES', 10_000, 1),
    providerLatencyMs: intFromEnv(env, 'BENCH_PROVIDER_LATENCY_MS', 5, 0),
    readDurationS: intFromEnv(env, 'BENCH_READ_DURATION_S', 10, 1),
    readConnections: intFromEnv(env, 'BENCH_READ_CONNECTIONS', 8, 1),
    acceptRole,
    skipBuild: flag(env, 'BENCH_SKIP_BUILD'),
    reseed: flag(env, 'BENCH_RESEED'),
    skipRateLimit: flag(env, 'BENCH_SKIP_RATE_LIMIT'),
    only: phasesFrom(env.BENCH_ONLY),
    cpuProfDir: env.BENCH_CPU_PROF_DIR || undefined,
  };
}
