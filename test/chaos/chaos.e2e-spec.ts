import { Client } from 'pg';
import type { MockProviderReceivedMessage, MockProviderRequestLogEntry } from '../../src/providers/mock/mock-provider.server';
import { builtMain, startBuiltMockProvider, startService, type ServiceProcess } from '../support/built-service';
import { emptyTables } from '../support/database';
import { freePort } from '../support/free-port';
import { providerReceived } from '../support/mock-provider';
import { waitFor } from '../support/test-app';

/**
 * Proof at scale (issue 3, item 9): 2 API processes (ROLE=api) and 2 worker processes
 * (ROLE=worker) of the BUILT service and one mock provider process (the standalone
 * `npm run start:mock`) against one PostgreSQL, the test database. 2,000 messages are
 * sent, split across both APIs, while a worker is SIGKILLed and started again every
 * few seconds (the two in turn; the other one keeps running). Then every message must
 * end `sent`, the provider must hold exactly one record per message, with the provider
 * id the message stored, and no message may have been sent twice.
 *
 * "Never sent twice" is what the provider's idempotency makes of at-least-once: a
 * worker killed while its request was on the way never learns the answer; its job
 * expires (DELIVERY_JOB_EXPIRE_S) and runs again, and the new request carries the same
 * Idempotency-Key, so the provider counts it (accepted_count 2) but sends nothing new
 * and answers with the same provider message id. So a key may be accepted more than
 * once only when each earlier acceptance arrived shortly before a worker was killed
 * and the message's job ran again; any other repeat is a duplicate delivery.
 *
 * `npm run test:chaos` runs this file three times in a row.
 */

const TOTAL = 2_000;
/**
 * Requests in flight from the test's clients, spread over both APIs. The APIs are
 * CPU-bound on a 2-CPU machine well below this (32 sends no faster), and every request
 * in flight holds a database connection: 16 leaves PostgreSQL's default 100 connections
 * room for other clients of the same server.
 */
const CLIENT_CONCURRENCY = 16;
/** Pause between a restarted worker being ready and the next kill. */
const KILL_EVERY_MS = 2_000;
/** Kills at the least, also when the sending is over sooner. */
const MIN_KILLS = 4;
const MOCK_LATENCY_MS = 20;
const JOB_EXPIRE_S = 15;
/**
 * How long before a kill a request may have reached the provider and still have lost
 * its answer with the killed worker: the provider's latency plus recording `sent`,
 * generously (2 CPUs running 5 Node processes and PostgreSQL; seen: under 100 ms).
 */
const LOST_ANSWER_WINDOW_MS = 1_500;
/** A request may reach the provider a moment after the kill that cut it off (it was on the wire). */
const IN_FLIGHT_AFTER_KILL_MS = 250;

interface Kill {
  /** Date.now() just before the SIGKILL (the mock provider runs on the same clock). */
  at: number;
  worker: number;
  /** Delivery jobs active in the queue (both workers) just before the kill. */
  activeJobs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Chaos: 2 API + 2 worker processes, workers SIGKILLed while 2,000 messages are delivered (e2e, built service)', () => {
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  /** Every process started, running or not (their output explains a failure). */
  const processes: Array<{ name: string; service: ServiceProcess }> = [];
  /** Processes the test killed on purpose. */
  const killed = new Set<ServiceProcess>();
  const unexpectedExits: string[] = [];
  let main: string;
  let mock: ServiceProcess;
  let apis: ServiceProcess[] = [];
  const workers: ServiceProcess[] = [];
  let workerStarts = 0;

  function track(name: string, service: ServiceProcess): ServiceProcess {
    processes.push({ name, service });
    void service.exited.then((exit) => {
      if (!killed.has(service)) unexpectedExits.push(`${name} exited (${exit.code ?? exit.signal})`);
    });
    return service;
  }

  /** Settings shared by all service processes (scaling.md: the same delivery settings everywhere). */
  function serviceEnv(role: 'api' | 'worker'): Record<string, string> {
    return {
      ROLE: role,
      // Names the TypeORM connections in pg_stat_activity (pg-boss names its own).
      PGAPPNAME: `chaos-${role}`,
      MOCK_PROVIDER_URL: mock.baseUrl,
      // Fast recovery of the jobs of a killed worker; start-up validation requires more
      // than the longest job (3 attempts x 2 s timeout, 2 waits of at most 1 s, gate waits).
      DELIVERY_JOB_EXPIRE_S: String(JOB_EXPIRE_S),
      PROVIDER_TIMEOUT_MS: '2000',
      PROVIDER_RETRY_AFTER_MAX_S: '1',
      // Each process may open 25 connections (TypeORM 20, pg-boss 5): 4 of them could take
      // all of PostgreSQL's default 100. A worker uses about as many as jobs it runs.
      DELIVERY_CONCURRENCY: '8',
    };
  }

  async function startWorker(): Promise<ServiceProcess> {
    const n = ++workerStarts;
    return track(`worker #${n}`, await startService(main, await freePort(), serviceEnv('worker')));
  }

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const { rows } = await db.query<{ count: number }>(sql, params);
    return Number(rows[0].count);
  }

  async function countByStatus(): Promise<Record<string, number>> {
    const { rows } = await db.query<{ status: string; count: number }>(`SELECT status, count(*)::int AS count FROM messages GROUP BY status`);
    return Object.fromEntries(rows.map((r) => [r.status, r.count]));
  }

  /** A message to send: three in four SMS (200 recipients), one in four email (50 recipients). */
  function request(n: number): { path: string; body: Record<string, unknown> } {
    if (n % 4 === 3) {
      return { path: '/api/messages/email', body: { from: 'team@example.com', to: `user${n % 50}@example.com`, body: `<p>chaos ${n}</p>` } };
    }
    return {
      path: '/api/messages/sms',
      body: { from: '+12015550100', to: `+1201555${String(2000 + (n % 200)).padStart(4, '0')}`, type: 'sms', body: `chaos ${n}`, attachments: [] },
    };
  }

  beforeAll(async () => {
    main = builtMain();
    await db.connect();
    // Nothing left by earlier test files for the workers to deliver (a fresh database has no tables yet).
    await emptyTables((sql) => db.query(sql)).catch(() => undefined);
    mock = track('mock provider', await startBuiltMockProvider(main, await freePort(), { MOCK_PROVIDER_LATENCY_MS: String(MOCK_LATENCY_MS) }));
    // All four at once: migrations and the queue's schema are set up under advisory locks.
    const started = await Promise.all([
      startService(main, await freePort(), serviceEnv('api')).then((s) => track('api #1', s)),
      startService(main, await freePort(), serviceEnv('api')).then((s) => track('api #2', s)),
      startWorker(),
      startWorker(),
    ]);
    apis = started.slice(0, 2);
    workers.push(...started.slice(2));
  }, 180_000);

  afterAll(async () => {
    for (const { service } of processes) killed.add(service);
    await Promise.all(processes.map(({ service }) => service.stop('SIGKILL')));
    await db.end().catch(() => undefined);
  });

  it('delivers all 2,000 exactly once while workers are killed and restarted', async () => {
    try {
      await scenario();
    } catch (error) {
      for (const { name, service } of processes) {
        console.error(`${name} (port ${service.port}), last 3000 characters of its output:\n${service.output().slice(-3000)}`);
      }
      throw error;
    }
  }, 170_000);

  async function scenario(): Promise<void> {
    const t0 = Date.now();
    // Peak connections to PostgreSQL, for the summary: this database's (the five
    // processes), the whole server's, and this database's by application name.
    const peak = { ours: 0, server: 0, byApp: {} as Record<string, number> };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await db.query<{ ours: number; server: number }>(
          `SELECT count(*) FILTER (WHERE datname = current_database())::int AS ours, count(*)::int AS server FROM pg_stat_activity WHERE backend_type = 'client backend'`,
        );
        peak.ours = Math.max(peak.ours, rows[0].ours);
        peak.server = Math.max(peak.server, rows[0].server);
        const { rows: apps } = await db.query<{ app: string; n: number }>(`SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() GROUP BY 1`);
        for (const a of apps) peak.byApp[a.app] = Math.max(peak.byApp[a.app] ?? 0, a.n);
        await sleep(200);
      }
    })().catch(() => undefined);

    // --- Clients: TOTAL sends, CLIENT_CONCURRENCY in flight, alternating between the APIs.
    const ids: number[] = [];
    const refused: string[] = [];
    /** 503 answers (database unavailable: nothing stored), sent again as a client would. */
    let unavailable = 0;
    let next = 0;
    let sendingDone = false;
    const client = async (): Promise<void> => {
      for (let n = next++; n < TOTAL; n = next++) {
        const { path, body } = request(n);
        for (let attempt = 1; ; attempt++) {
          const res = await fetch(`${apis[n % 2].baseUrl}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          const answer = (await res.json()) as { id: number };
          if (res.status === 202) {
            ids.push(answer.id);
          } else if (res.status === 503 && attempt < 5) {
            unavailable++;
            await sleep(250 * attempt);
            continue;
          } else {
            refused.push(`${n}: ${res.status} ${JSON.stringify(answer)}`);
          }
          break;
        }
      }
    };
    const sending = Promise.all(Array.from({ length: CLIENT_CONCURRENCY }, client)).finally(() => (sendingDone = true));

    // --- Chaos: every KILL_EVERY_MS, SIGKILL one worker (the two in turn) and start a new
    // one in its place; the other keeps delivering meanwhile.
    const kills: Kill[] = [];
    let stopChaos = false;
    const chaos = (async () => {
      while (!stopChaos && !(sendingDone && kills.length >= MIN_KILLS)) {
        await sleep(KILL_EVERY_MS);
        if (stopChaos) break;
        const slot = kills.length % 2;
        const activeJobs = await count(`SELECT count(*) FROM pgboss.job WHERE name = 'message-delivery' AND state = 'active'`);
        const victim = workers[slot];
        killed.add(victim);
        kills.push({ at: Date.now(), worker: slot, activeJobs });
        await victim.stop('SIGKILL');
        workers[slot] = await startWorker();
      }
    })();

    let sentAt: number;
    try {
      await sending;
      sentAt = Date.now();
      expect(refused).toEqual([]);
      expect(new Set(ids).size).toBe(TOTAL);
      await chaos;
    } finally {
      // Also on failure: no worker may be started after afterAll() killed the others.
      stopChaos = true;
      sampling = false;
      await Promise.all([chaos.catch(() => undefined), sampler]);
    }
    const chaosEnded = Date.now();

    // --- Every message ends sent: the jobs of killed workers expire and run again.
    await waitFor(
      async () => {
        const counts = await countByStatus();
        if (counts.failed) throw new Error(`messages failed: ${JSON.stringify(counts)}`);
        return (counts.sent ?? 0) === TOTAL;
      },
      `all ${TOTAL} messages to be sent`,
      100_000,
      250,
    );
    const allSentAt = Date.now();
    expect(await countByStatus()).toEqual({ sent: TOTAL });
    // ... and no delivery job is left waiting or running (also none whose worker recorded
    // `sent` and died before completing the job: it expires, runs again and finds nothing to do).
    await waitFor(
      async () => (await count(`SELECT count(*) FROM pgboss.job WHERE name = 'message-delivery' AND state IN ('created', 'retry', 'active')`)) === 0,
      'the delivery queue to be idle',
      60_000,
      250,
    );
    expect(await count(`SELECT count(*) FROM pgboss.job WHERE name = 'message-delivery' AND state = 'failed'`)).toBe(0);
    expect(unexpectedExits).toEqual([]);

    // --- The provider holds exactly one record per message: same key, same content, and
    // the provider message id the message stored; no two messages share a provider id.
    const { rows } = await db.query<{ id: string; idempotency_key: string; provider_message_id: string; to_address: string; body: string; attempts: number }>(
      `SELECT id, idempotency_key, provider_message_id, to_address, body, attempts FROM messages ORDER BY id`,
    );
    expect(rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    const received = await providerReceived({ url: mock.baseUrl });
    expect(received).toHaveLength(TOTAL);
    const byKey = new Map<string, MockProviderReceivedMessage>(received.map((r) => [r.idempotency_key, r]));
    expect(byKey.size).toBe(TOTAL);
    const mismatched = rows.filter((row) => {
      const record = byKey.get(row.idempotency_key);
      return !record || record.provider_message_id !== row.provider_message_id || record.to !== row.to_address || record.body !== row.body;
    });
    expect(mismatched).toEqual([]);
    expect(new Set(rows.map((r) => r.provider_message_id)).size).toBe(TOTAL);

    // --- Accepted more than once only where a kill took the answer: each earlier
    // acceptance of the key reached the provider within LOST_ANSWER_WINDOW_MS before a
    // kill (or just after it), and the message's job ran again after it expired.
    const log = (await (await fetch(`${mock.baseUrl}/requests`)).json()) as MockProviderRequestLogEntry[];
    const acceptedAt = new Map<string, number[]>();
    for (const entry of log) {
      if (entry.outcome !== 'accepted' || !entry.idempotency_key) continue;
      acceptedAt.set(entry.idempotency_key, [...(acceptedAt.get(entry.idempotency_key) ?? []), entry.at_ms]);
    }
    for (const record of received) expect([record.idempotency_key, acceptedAt.get(record.idempotency_key)?.length]).toEqual([record.idempotency_key, record.accepted_count]);
    expect(log.filter((e) => e.outcome !== 'accepted')).toEqual([]); // the provider itself never failed

    const { rows: jobRuns } = await db.query<{ message_id: string; reruns: number }>(
      `SELECT data->>'messageId' AS message_id, max(retry_count)::int AS reruns FROM (
         SELECT data, retry_count FROM pgboss.job WHERE name = 'message-delivery'
         UNION ALL
         SELECT data, retry_count FROM pgboss.archive WHERE name = 'message-delivery'
       ) AS jobs GROUP BY 1`,
    );
    const rerunMessages = new Set(jobRuns.filter((j) => j.reruns > 0).map((j) => j.message_id));
    const messageIdByKey = new Map(rows.map((r) => [r.idempotency_key, r.id]));
    const repeated = received.filter((r) => r.accepted_count > 1);
    /** Per lost answer: how long before the kill that took it the request reached the provider (ms; < 0: after). */
    const lostAnswerLeads: number[] = [];
    const unexplained = repeated.filter((r) => {
      const times = (acceptedAt.get(r.idempotency_key) ?? []).sort((a, b) => a - b);
      const eachNearAKill = times.slice(0, -1).every((at) => {
        const kill = kills.find((k) => at <= k.at + IN_FLIGHT_AFTER_KILL_MS && at >= k.at - LOST_ANSWER_WINDOW_MS);
        if (kill) lostAnswerLeads.push(kill.at - at);
        return kill !== undefined;
      });
      return !eachNearAKill || !rerunMessages.has(messageIdByKey.get(r.idempotency_key) ?? '');
    });
    expect(unexplained.map((r) => ({ key: r.idempotency_key, accepted_at: acceptedAt.get(r.idempotency_key), kills: kills.map((k) => k.at) }))).toEqual([]);
    // A message's `attempts` never falls behind the requests that reached the provider.
    expect(rows.filter((r) => r.attempts < (acceptedAt.get(r.idempotency_key)?.length ?? 0)).map((r) => r.id)).toEqual([]);

    // The chaos was real: workers were killed while deliveries were running, and jobs ran again.
    expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(rerunMessages.size).toBeGreaterThan(0);

    console.log(
      [
        `chaos: ${TOTAL} messages through 2 APIs in ${((sentAt! - t0) / 1000).toFixed(1)} s (${Math.round(TOTAL / ((sentAt! - t0) / 1000))}/s; ${unavailable} answers 503 sent again)`,
        `peak PostgreSQL connections while sending: ${peak.ours} of this database, ${peak.server} on the server ${JSON.stringify(peak.byApp)}`,
        `${kills.length} worker kills (active jobs at each: ${kills.map((k) => k.activeJobs).join(', ')}), chaos ended at ${((chaosEnded - t0) / 1000).toFixed(1)} s`,
        `all sent at ${((allSentAt - t0) / 1000).toFixed(1)} s, queue idle at ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        `${rerunMessages.size} messages had a job run again, ${repeated.length} keys accepted more than once (all after a kill; ` +
          `the lost answers reached the provider ${Math.min(...lostAnswerLeads, 0)}..${Math.max(...lostAnswerLeads, 0)} ms before the kill), ` +
          `${log.length} provider requests, attempts > 1: ${rows.filter((r) => r.attempts > 1).length}`,
      ].join('\n'),
    );
  }
});
