import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { MockProviderServer, type MockProviderRequestLogEntry } from '../src/providers/mock/mock-provider.server';
import { builtMain, ROOT, ServiceProcesses, type ServiceProcess } from './support/built-service';
import { emptyTables } from './support/database';
import { freePort } from './support/free-port';
import { clearProvider, providerReceived } from './support/mock-provider';
import { waitFor } from './support/test-app';

/**
 * Graceful shutdown of the BUILT service (ROLE=all) while deliveries are in flight at a
 * slow provider (1.5 s per request): it stops taking requests, lets the running
 * deliveries finish, leaves the rest queued, closes everything in order and exits 0;
 * after a restart every message is delivered, none twice.
 */

const LATENCY_MS = 1_500;
const GRACE_MS = 10_000;

async function requestLog(mock: { url: string }): Promise<MockProviderRequestLogEntry[]> {
  return (await (await fetch(`${mock.url}/requests`)).json()) as MockProviderRequestLogEntry[];
}

/** @returns true when something accepts TCP connections on 127.0.0.1:`port` */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The lines of a process's output that match `pattern`, so a failure shows them. */
function linesMatching(output: string, pattern: RegExp): string[] {
  return output.split('\n').filter((line) => pattern.test(line));
}

async function sendSms(baseUrl: string, n: number): Promise<number> {
  const res = await fetch(`${baseUrl}/api/messages/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+12015550100', to: `+1201555${String(3000 + n).padStart(4, '0')}`, type: 'sms', body: `shutdown ${n}`, attachments: null }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: number }).id;
}

describe('Graceful shutdown (e2e, built service)', () => {
  const mock = new MockProviderServer({ latencyMs: LATENCY_MS });
  const services = new ServiceProcesses();
  let main: string;

  const start = (env: Record<string, string | undefined>, options: { detached?: boolean; readyTimeoutMs?: number } = {}): Promise<ServiceProcess> =>
    services.start(main, { ROLE: 'all', MOCK_PROVIDER_URL: mock.url, SHUTDOWN_GRACE_MS: String(GRACE_MS), ...env }, options);

  beforeAll(async () => {
    main = builtMain();
    await mock.start(0);
  }, 180_000);

  afterAll(async () => {
    await services.killAll();
    await mock.stop();
  });

  describe('against the test database', () => {
    const db = new Client({ connectionString: process.env.DATABASE_URL });

    beforeAll(() => db.connect());
    afterAll(() => db.end());

    /**
     * Empties the tables, the queue and the provider's records before a service starts,
     * so that it finds nothing left by earlier test files to deliver (a new database has
     * no tables yet: nothing to empty).
     */
    async function emptyBeforeStart(): Promise<void> {
      await emptyTables((sql) => db.query(sql)).catch(() => undefined);
      await clearProvider(mock);
    }

    async function statuses(): Promise<Map<number, string>> {
      const { rows } = await db.query<{ id: string; status: string }>(`SELECT id, status FROM messages ORDER BY id`);
      return new Map(rows.map((r) => [Number(r.id), r.status]));
    }

    it('SIGTERM mid-delivery: in-flight deliveries end sent, the rest stay queued, exit 0; a restart delivers the rest once', async () => {
      // A few deliveries at a time, so that most messages are still queued at the signal.
      const env = { DELIVERY_CONCURRENCY: '4' };
      await emptyBeforeStart();
      let service = await start(env);

      const ids: number[] = [];
      for (let n = 0; n < 12; n++) ids.push(await sendSms(service.baseUrl, n));
      // Four provider requests under way (each takes 1.5 s).
      await waitFor(async () => (await requestLog(mock)).filter((r) => r.outcome === 'pending').length === 4, 'four deliveries in flight', 10_000, 20);
      const atSignal = await statuses();
      const inFlight = ids.filter((id) => atSignal.get(id) === 'sending');
      expect(inFlight.length).toBeGreaterThanOrEqual(4);

      const stopping = service.stop('SIGTERM');
      // It stops taking connections at once, while the deliveries are still running.
      await new Promise((r) => setTimeout(r, 200));
      expect(service.child.exitCode).toBeNull();
      expect(await listening(service.port)).toBe(false);
      const exit = await stopping;
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(GRACE_MS);
      // It waited for the provider's answers rather than cutting them off.
      expect(exit.ms).toBeGreaterThan(200);
      expect(service.output()).toMatch(/Shut down in \d+ ms/);
      expect(linesMatching(service.output(), /abandoned|cut off|terminating connection|Queue error/)).toEqual([]);

      const after = await statuses();
      for (const id of inFlight) expect([id, after.get(id)]).toEqual([id, 'sent']);
      const sent = ids.filter((id) => after.get(id) === 'sent');
      const queued = ids.filter((id) => after.get(id) === 'queued');
      expect(sent.length + queued.length).toBe(ids.length);
      expect(queued.length).toBeGreaterThan(0);
      // No provider request was cut off: each one was answered, and the provider holds
      // exactly the sent messages, once each.
      const log = await requestLog(mock);
      expect(log.map((r) => r.outcome)).toEqual(sent.map(() => 'accepted'));
      const received = await providerReceived(mock);
      const { rows: keys } = await db.query<{ id: string; idempotency_key: string }>(`SELECT id, idempotency_key FROM messages WHERE status = 'sent'`);
      expect(new Set(received.map((r) => r.idempotency_key))).toEqual(new Set(keys.map((k) => k.idempotency_key)));
      expect(received.every((r) => r.accepted_count === 1)).toBe(true);
      // The queued ones still have their jobs, waiting.
      const { rows: jobs } = await db.query<{ state: string; count: number }>(
        `SELECT state, count(*)::int AS count FROM pgboss.job WHERE name = 'message-delivery' AND state <> 'completed' GROUP BY state`,
      );
      expect(jobs).toEqual([{ state: 'created', count: queued.length }]);

      service = await start(env);
      await waitFor(async () => [...(await statuses()).values()].every((s) => s === 'sent'), 'all messages to be sent after the restart', 30_000, 100);
      const all = await providerReceived(mock);
      expect(all).toHaveLength(ids.length);
      expect(all.every((r) => r.accepted_count === 1)).toBe(true);
      expect(await requestLog(mock)).toHaveLength(ids.length);

      // Idle, it stops at once.
      const idle = await service.stop('SIGTERM');
      expect({ code: idle.code, signal: idle.signal }).toEqual({ code: 0, signal: null });
      expect(idle.ms).toBeLessThan(2_000);
    }, 90_000);

    it('a delivery still running at the end of the grace period is abandoned; its job runs again once it expires; nothing lost', async () => {
      // Grace period shorter than the provider's answer; a short job expiry (budget:
      // one 3 s attempt plus the provider gate's 1 s, plus 10 s).
      const env = { DELIVERY_CONCURRENCY: '2', SHUTDOWN_GRACE_MS: '500', PROVIDER_TIMEOUT_MS: '3000', PROVIDER_INLINE_RETRIES: '0' };
      await emptyBeforeStart();
      let service = await start(env);
      const ids = [await sendSms(service.baseUrl, 200), await sendSms(service.baseUrl, 201)];
      await waitFor(async () => (await requestLog(mock)).filter((r) => r.outcome === 'pending').length === 2, 'two deliveries in flight', 10_000, 20);

      const exit = await service.stop('SIGTERM');
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(LATENCY_MS); // did not wait for the provider
      expect(service.output()).toMatch(/2 still running abandoned/);
      const atExit = await statuses();
      expect(ids.map((id) => atExit.get(id))).toEqual(['sending', 'sending']);
      const { rows: jobs } = await db.query<{ state: string }>(`SELECT state FROM pgboss.job WHERE name = 'message-delivery'`);
      expect(jobs.map((j) => j.state)).toEqual(['active', 'active']);

      service = await start(env);
      await waitFor(async () => [...(await statuses()).values()].every((s) => s === 'sent'), 'the abandoned messages to be sent once their jobs expired', 60_000, 250);
      // The provider got each message twice (the first answer never reached the
      // service), under one idempotency key: one message each, sent once.
      const received = await providerReceived(mock);
      expect(received).toHaveLength(2);
      const { rows } = await db.query<{ idempotency_key: string; provider_message_id: string }>(`SELECT idempotency_key, provider_message_id FROM messages`);
      for (const row of rows) {
        const record = received.find((r) => r.idempotency_key === row.idempotency_key);
        expect(record?.provider_message_id).toBe(row.provider_message_id);
      }
      expect((await service.stop('SIGTERM')).code).toBe(0);
    }, 120_000);
  });

  it('answers a waiting `Prefer: wait` request 202 at once (ROLE=api), then exits 0', async () => {
    const service = await start({ ROLE: 'api', MOCK_PROVIDER_URL: undefined, MOCK_PROVIDER_PORT: String(await freePort()) });
    const started = Date.now();
    const answer = fetch(`${service.baseUrl}/messages/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=20' },
      body: JSON.stringify({ from: '+12015550100', to: '+12015550998', type: 'sms', body: 'waiting at shutdown' }),
    });
    await new Promise((r) => setTimeout(r, 500)); // stored and waiting: no worker runs
    const exit = await service.stop('SIGTERM');
    const res = await answer;
    expect(res.status).toBe(202);
    expect(res.headers.get('connection')).toBe('close');
    expect(((await res.json()) as { status: string }).status).toBe('queued');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  });

  describe('with the embedded PostgreSQL', () => {
    const dataDir = join('.data', `test-shutdown-${process.pid}`);
    const pidFile = join(ROOT, dataDir, 'postgres', 'postmaster.pid');

    afterAll(() => {
      // Should a run fail half-way: stop a server it left and remove its data.
      if (existsSync(pidFile)) {
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
        } catch {
          // gone
        }
      }
      rmSync(join(ROOT, dataDir), { recursive: true, force: true });
    });

    it('Ctrl-C (SIGINT to the process group) mid-delivery: PostgreSQL is stopped last, exit 0, nothing lost', async () => {
      await clearProvider(mock);
      const env = { DATABASE_URL: undefined, DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) };
      // A process group of its own, as a terminal's foreground job: the signal goes to
      // every process in it, as Ctrl-C does.
      let service = await start(env, { detached: true, readyTimeoutMs: 90_000 });
      const first = await sendSms(service.baseUrl, 100);
      const second = await sendSms(service.baseUrl, 101);
      await waitFor(async () => (await requestLog(mock)).filter((r) => r.outcome === 'pending').length === 2, 'two deliveries in flight', 10_000, 20);

      const exit = await service.stop('SIGINT');
      const output = service.output();
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(GRACE_MS);
      expect(linesMatching(output, /terminating connection|Queue error|ERROR|abandoned/)).toEqual([]);
      // Closed in order: the deliveries, the queue, then the database, last.
      const order = ['Queue workers stopped', 'Queue closed', 'Embedded PostgreSQL on', 'Shut down in'].map((line) => output.indexOf(line));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(existsSync(pidFile)).toBe(false);
      expect((await requestLog(mock)).map((r) => r.outcome)).toEqual(['accepted', 'accepted']);

      // The data survived, and both messages were recorded as sent.
      service = await start(env, { detached: true, readyTimeoutMs: 60_000 });
      for (const id of [first, second]) {
        expect((await (await fetch(`${service.baseUrl}/api/messages/${id}`)).json()).status).toBe('sent');
      }
      const idle = await service.stop('SIGTERM');
      expect({ code: idle.code, signal: idle.signal }).toEqual({ code: 0, signal: null });
      expect(existsSync(pidFile)).toBe(false);
      expect((await providerReceived(mock)).every((r) => r.accepted_count === 1)).toBe(true);
    }, 180_000);
  });
});
