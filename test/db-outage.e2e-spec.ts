import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import type { EmbeddedDatabaseOptions } from '../src/database/embedded-database';
import { MockProviderServer } from '../src/providers/mock/mock-provider.server';
import { builtMain, startService, type ServiceProcess } from './support/built-service';
import { type EmbeddedDatabaseProcess, startEmbeddedDatabase, stopLeftoverPostgres } from './support/embedded-database-process';
import { freePort } from './support/free-port';
import { providerReceived } from './support/mock-provider';
import { percentile, RequestLoad, type LoadAnswer } from './support/request-load';
import { waitFor } from './support/test-app';

/**
 * Database outage (issue 3, item 10): PostgreSQL is stopped for 10 s under a steady
 * load of sends and started again, on the same data directory and port. The BUILT
 * service runs as a child process (ROLE=all) against a PostgreSQL of this test's own
 * (an embedded server under a temporary directory, run by a helper process: the shared
 * test server is never stopped) and a mock provider owned by the test. The stop is a
 * real one (fast shutdown: connections are closed and the port is released), not a
 * SIGSTOP. The service runs with the production delivery settings.
 *
 * While the database is down every send answers 503 problem+json within ANSWER_LIMIT_MS
 * (no hang), /health/ready answers 503 and /health 200 (the process is alive, not
 * ready). Once it is back, sends answer 202 and /health/ready 200 within
 * RECOVERY_LIMIT_MS, without restarting the service. Every message answered 202,
 * before, during or after the outage, ends `sent` and reaches the provider under one
 * idempotency key.
 *
 * A 503 means "not accepted": the client must send again. It can still happen that
 * the message was stored: the COMMIT reached PostgreSQL but its acknowledgement was
 * lost with the connection. The message is then stored with its delivery job (one
 * transaction), so it is delivered like any other; the test checks that every stored
 * message, answered 202 or not, ends `sent`, and that nothing is stored for a request
 * that got another answer.
 *
 * What found the faults it guards against: the burst of sends at the stop (a
 * transaction whose connection closed between two queries answered 500; a connection
 * closed just as it opened crashed the process with an unhandled 'error' event); the
 * production job expiry (deliveries under way at the stop waited a minute for their
 * jobs to expire instead of resuming with the database); the log check (a stack trace
 * per refused request and per failed readiness probe).
 *
 * It prints what it measured (503 latencies, recovery time, delivery time). With
 * DB_OUTAGE_LOG=<file> it writes the service's log to that file.
 */

const RATE_PER_S = 20;
/**
 * A burst of sends on top, from BURST_LEAD_MS before the stop until PostgreSQL has
 * stopped, so that many transactions are under way when their connections are closed
 * (between two of their queries, too).
 */
const BURST_PER_S = 200;
const BURST_LEAD_MS = 500;
/** Request numbers of the burst start here (the steady load counts from 0). */
const BURST_FIRST_N = 100_000;
const BEFORE_MS = 3_000;
const OUTAGE_MS = 10_000;
const AFTER_MS = 5_000;
/** Longest acceptable answer to a send or a health probe, also while the database is down. */
const ANSWER_LIMIT_MS = 3_000;
/** Longest acceptable time from PostgreSQL accepting connections again to sends answering 202 and /health/ready 200. */
const RECOVERY_LIMIT_MS = 15_000;
/**
 * Longest acceptable time from PostgreSQL accepting connections again to every stored
 * message being `sent`, also those whose delivery was under way when it stopped (well
 * below DELIVERY_JOB_EXPIRE_S: delivery must not wait for the jobs to expire).
 */
const DELIVERY_LIMIT_MS = 30_000;
/**
 * Most lines the service may log from the stop to the recovery: a few lines per kind of
 * trouble every 5 s (jobs failed, outcomes not written yet, requests answered 503, queue
 * errors), not a line per delivery job under way (DELIVERY_CONCURRENCY, 200) or per
 * refused request (some 300 of them), let alone a stack trace. 6 lines in a run of
 * 2026-11-29; 226 before the consumer throttled its per-job lines.
 */
const OUTAGE_LOG_LINES_LIMIT = 40;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The body of send `n`: its number is in the body, so a stored message names the request that stored it. */
function sendBody(n: number): Record<string, unknown> {
  return { from: '+12015550100', to: `+1201555${String(1000 + (n % 9000)).padStart(4, '0')}`, type: 'sms', body: `outage ${n}`, attachments: [] };
}

function isProblem503(a: LoadAnswer): boolean {
  return a.status === 503 && a.contentType.startsWith('application/problem+json') && a.body?.status === 503 && typeof a.body?.type === 'string';
}

/** A short account of `answers` for failure messages: count per status, and a few of them. */
function describeAnswers(answers: LoadAnswer[]): string {
  const counts: Record<string, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  const samples = answers.slice(0, 5).map((a) => `#${a.n} ${a.status} ${Math.round(a.ms)} ms ${a.error ?? JSON.stringify(a.body).slice(0, 200)}`);
  return `${JSON.stringify(counts)}\n${samples.join('\n')}`;
}

describe('Database outage: PostgreSQL stopped for 10 s under load (e2e, built service, own embedded PostgreSQL)', () => {
  // A provider that takes 1 s: some 20 deliveries are under way when PostgreSQL stops.
  const mock = new MockProviderServer({ latencyMs: 1000 });
  const loads: RequestLoad[] = [];
  let tempDir: string;
  let dbOptions: EmbeddedDatabaseOptions;
  let database: EmbeddedDatabaseProcess | undefined;
  let service: ServiceProcess | undefined;
  let main: string;

  beforeAll(async () => {
    main = builtMain();
    await mock.start(0);
    tempDir = mkdtempSync(join(tmpdir(), 'messaging-db-outage-'));
    dbOptions = { dataDir: join(tempDir, 'postgres'), port: await freePort(), database: 'messaging_outage_test' };
    database = await startEmbeddedDatabase(main, dbOptions);
    service = await startService(main, await freePort(), {
      DATABASE_URL: database.url,
      ROLE: 'all',
      MOCK_PROVIDER_URL: mock.url,
      // Otherwise the delivery settings of production: a delivery job expires (and runs
      // again) only DELIVERY_JOB_EXPIRE_S (63 s) after it started, longer than the test
      // allows for delivering what was under way when the database stopped.
    }, { readyTimeoutMs: 60_000 });
  }, 240_000);

  afterAll(async () => {
    if (process.env.DB_OUTAGE_LOG) writeFileSync(process.env.DB_OUTAGE_LOG, service?.output() ?? '');
    await service?.stop('SIGKILL');
    // Loads still running (the test failed half-way) end at once now.
    await Promise.all(loads.map((load) => load.stop()));
    await database?.stop();
    await mock.stop();
    if (tempDir) {
      await stopLeftoverPostgres(dbOptions.dataDir);
      rmSync(tempDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('answers 503 fast while PostgreSQL is down, recovers without a restart, and loses no accepted message', async () => {
    try {
      await outageScenario(service!);
    } catch (error) {
      console.error(`service output (last 30000 characters):\n${service!.output().slice(-30_000)}`);
      throw error;
    }
  }, 180_000);

  async function outageScenario(svc: ServiceProcess): Promise<void> {
    const sends = new RequestLoad(`${svc.baseUrl}/api/messages/sms`, sendBody, RATE_PER_S);
    const ready = new RequestLoad(`${svc.baseUrl}/health/ready`, () => null, 4);
    const live = new RequestLoad(`${svc.baseUrl}/health`, () => null, 2);
    loads.push(sends, ready, live);
    sends.start();
    ready.start();
    live.start();

    await sleep(BEFORE_MS - BURST_LEAD_MS);
    const burst = new RequestLoad(`${svc.baseUrl}/api/messages/sms`, (n) => sendBody(BURST_FIRST_N + n), BURST_PER_S);
    loads.push(burst);
    burst.start();
    await sleep(BURST_LEAD_MS);
    const logAtStop = svc.output().length;
    const stopBegan = performance.now();
    await database!.stop();
    const downAt = performance.now();
    const burstDone = burst.stop();
    await sleep(OUTAGE_MS);
    const restartBegan = performance.now();
    database = await startEmbeddedDatabase(main, dbOptions);
    const upAt = performance.now();

    // Recovery: the first send answered 202 and the first readiness probe answered 200,
    // both sent after PostgreSQL accepted connections again.
    const firstDone = (answers: LoadAnswer[], status: number): number | undefined =>
      answers.filter((a) => a.status === status).reduce<number | undefined>((t, a) => Math.min(t ?? Infinity, a.startedAt + a.ms), undefined);
    const recoveredAt = await waitFor(
      async () => {
        if (svc.child.exitCode !== null || svc.child.signalCode !== null) {
          throw new Error(`the service exited (${svc.child.exitCode ?? svc.child.signalCode}) during the outage instead of riding it out`);
        }
        const send = firstDone(sends.sentBetween(upAt), 202);
        const probe = firstDone(ready.sentBetween(upAt), 200);
        return send !== undefined && probe !== undefined ? Math.max(send, probe) : undefined;
      },
      'sends answered 202 and /health/ready 200 after the restart',
      RECOVERY_LIMIT_MS + 15_000,
      50,
    );
    const outageLog = svc.output().slice(logAtStop).split('\n').filter((line) => line.trim() !== '');
    await sleep(AFTER_MS);
    const [answers, probes, liveness, burstAnswers] = await Promise.all([sends.stop(), ready.stop(), live.stop(), burstDone]);
    // Every send, of the steady load and of the burst, numbered as in its body.
    const all = [...answers, ...burstAnswers.map((a) => ({ ...a, n: BURST_FIRST_N + a.n }))];

    const during = answers.filter((a) => a.startedAt >= downAt && a.startedAt < restartBegan);
    const latencies503 = answers.filter((a) => a.status === 503).map((a) => a.ms);
    const measured = {
      sends: answers.length,
      accepted202: answers.filter((a) => a.status === 202).length,
      refused503: latencies503.length,
      burst: burstAnswers.length,
      burst202: burstAnswers.filter((a) => a.status === 202).length,
      burst503: burstAnswers.filter((a) => a.status === 503).length,
      p99_burst_ms: Math.round(percentile(burstAnswers.map((a) => a.ms), 99)),
      stopMs: Math.round(downAt - stopBegan),
      restartMs: Math.round(upAt - restartBegan),
      recoveryMs: Math.round(recoveredAt - upAt),
      p50_503_ms: Math.round(percentile(latencies503, 50)),
      p99_503_ms: Math.round(percentile(latencies503, 99)),
      max_503_ms: Math.round(Math.max(...latencies503)),
      p99_all_ms: Math.round(percentile(answers.map((a) => a.ms), 99)),
      max_ready_probe_ms: Math.round(Math.max(...probes.map((a) => a.ms))),
      outageLogLines: outageLog.length,
    };
    console.log(`database outage, measured: ${JSON.stringify(measured)}`);

    // Every send answered, 202 or 503 problem+json, and fast; also those whose
    // transactions were under way when PostgreSQL closed their connections.
    const unexpected = all.filter((a) => a.status !== 202 && !isProblem503(a));
    expect(describeAnswers(unexpected)).toBe(describeAnswers([]));
    const slow = all.filter((a) => a.ms > ANSWER_LIMIT_MS);
    expect(describeAnswers(slow)).toBe(describeAnswers([]));
    // While it was down: only 503s, and plenty of them.
    expect(during.length).toBeGreaterThanOrEqual((OUTAGE_MS / 1000) * RATE_PER_S * 0.8);
    expect(during.filter((a) => a.status !== 503)).toEqual([]);
    // Not ready while down; alive all along.
    const probesDown = probes.filter((a) => a.startedAt >= downAt && a.startedAt < restartBegan);
    expect(probesDown.length).toBeGreaterThan(10);
    expect(describeAnswers(probesDown.filter((a) => a.status !== 503 || a.ms > ANSWER_LIMIT_MS))).toBe(describeAnswers([]));
    expect(describeAnswers(liveness.filter((a) => a.status !== 200 || a.ms > ANSWER_LIMIT_MS))).toBe(describeAnswers([]));
    // Recovered in time, without a restart, and stays recovered.
    expect(measured.recoveryMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
    expect(svc.child.exitCode).toBeNull();
    expect(svc.child.signalCode).toBeNull();
    const afterRecovery = answers.filter((a) => a.startedAt >= recoveredAt);
    expect(afterRecovery.length).toBeGreaterThan(0);
    expect(describeAnswers(afterRecovery.filter((a) => a.status !== 202))).toBe(describeAnswers([]));
    expect(probes.filter((a) => a.startedAt >= recoveredAt && a.status !== 200)).toEqual([]);
    // Accepted before and after the outage too.
    expect(answers.filter((a) => a.startedAt < stopBegan && a.status === 202).length).toBeGreaterThan(0);
    // The outage is logged, not a stack trace per refused request or failed probe.
    expect(outageLog.filter((line) => /^\s+at /.test(line)).slice(0, 5)).toEqual([]);
    expect(outageLog.length).toBeLessThan(OUTAGE_LOG_LINES_LIMIT);

    await expectNothingLost(all, upAt);
  }

  /**
   * Every stored message (all those answered 202 among them) ends `sent` within
   * DELIVERY_LIMIT_MS of `upAt`, and the provider got each under one idempotency key.
   */
  async function expectNothingLost(answers: LoadAnswer[], upAt: number): Promise<void> {
    const db = new Client({ connectionString: database!.url });
    await db.connect();
    try {
      type Row = { id: string; status: string; body: string; idempotency_key: string; provider_message_id: string | null };
      const stored = await waitFor(
        async () => {
          const { rows } = await db.query<Row>(`SELECT id, status, body, idempotency_key, provider_message_id FROM messages WHERE direction = 'outbound' ORDER BY id`);
          return rows.every((r) => r.status === 'sent') ? rows : undefined;
        },
        'every stored message to be sent',
        // Longer than DELIVERY_LIMIT_MS: a late message is told apart from a lost one.
        120_000,
        250,
      ).catch(async (error: Error) => {
        const { rows } = await db.query(`SELECT status, count(*)::int AS n FROM messages GROUP BY status`);
        throw new Error(`${error.message}: ${JSON.stringify(rows)}`);
      });
      const allSentAt = performance.now();

      const accepted = answers.filter((a) => a.status === 202);
      const storedIds = new Set(stored.map((r) => Number(r.id)));
      const lost = accepted.filter((a) => !storedIds.has(a.body.id));
      expect(lost.map((a) => a.body.id)).toEqual([]);
      // Nothing stored that no request asked for; a request answered 503 may have been
      // stored (its COMMIT landed, the answer did not), and is then delivered too.
      const byN = new Map(answers.map((a) => [a.n, a]));
      const storedStatuses = stored.map((r) => byN.get(Number(r.body.replace('outage ', '')))?.status);
      expect(storedStatuses.filter((s) => s !== 202 && s !== 503)).toEqual([]);
      const stored503 = storedStatuses.filter((s) => s === 503).length;
      expect(stored.length).toBe(accepted.length + stored503);

      const received = await providerReceived(mock);
      const keys = received.map((r) => r.idempotency_key);
      expect(new Set(keys).size).toBe(keys.length);
      expect(new Set(keys)).toEqual(new Set(stored.map((r) => r.idempotency_key)));
      const providerIdByKey = new Map(received.map((r) => [r.idempotency_key, r.provider_message_id]));
      for (const row of stored) expect(row.provider_message_id).toBe(providerIdByKey.get(row.idempotency_key));
      const resent = received.filter((r) => r.accepted_count > 1).length;
      console.log(`database outage, messages: ${JSON.stringify({ stored: stored.length, accepted202: accepted.length, stored503, providerKeys: keys.length, keysRequestedMoreThanOnce: resent, allSentMsAfterRestart: Math.round(allSentAt - upAt) })}`);
      // ... and soon: what was in flight when the database stopped did not wait for its job to expire.
      expect(Math.round(allSentAt - upAt)).toBeLessThanOrEqual(DELIVERY_LIMIT_MS);
    } finally {
      await db.end();
    }
  }
});
