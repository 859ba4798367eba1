import { type ChildProcess, spawn } from 'node:child_process';
import { Client } from 'pg';
import { MockProviderServer } from '../src/providers/mock/mock-provider.server';
import { builtMain, ROOT } from './support/built-service';
import { emptyTables } from './support/database';
import { freePort } from './support/free-port';
import { clearProvider, providerReceived } from './support/mock-provider';
import { waitFor } from './support/test-app';

/**
 * A message answered 202 is never lost and never sent twice, also when the process is
 * killed with SIGKILL in the middle of delivering: the BUILT service runs as a child
 * process (ROLE=all) against the test database and a mock provider owned by the test,
 * is killed once about a third of 200 messages are sent, and is started again.
 */

const TOTAL = 200;

describe('Durability: SIGKILL during delivery (e2e, built service)', () => {
  const databaseUrl = process.env.DATABASE_URL as string;
  const mock = new MockProviderServer({ latencyMs: 200 });
  const db = new Client({ connectionString: databaseUrl });
  const children = new Set<ChildProcess>();
  let output = '';
  let main: string;
  let port: number;
  let baseUrl: string;

  /** Starts the built service (builtMain()) and waits until /health/ready answers 200. */
  async function startService(): Promise<ChildProcess> {
    const child = spawn(process.execPath, [main], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        ROLE: 'all',
        MOCK_PROVIDER_URL: mock.url,
        DELIVERY_JOB_EXPIRE_S: '12',
        PROVIDER_TIMEOUT_MS: '2000',
        PROVIDER_RETRY_AFTER_MAX_S: '1',
        // A few jobs at a time, so that a third of the messages takes long enough to catch.
        DELIVERY_CONCURRENCY: '10',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', () => children.delete(child));
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`service exited early (${child.exitCode ?? child.signalCode}):\n${output}`);
        try {
          return (await fetch(`${baseUrl}/health/ready`)).status === 200;
        } catch {
          return false;
        }
      },
      'the service to be ready',
      30_000,
    );
    return child;
  }

  /** Kills `child` with `signal` and waits until it has exited. */
  async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  async function countByStatus(): Promise<Record<string, number>> {
    const { rows } = await db.query<{ status: string; count: number }>(
      `SELECT status, count(*)::int AS count FROM messages WHERE direction = 'outbound' GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.count]));
  }

  beforeAll(async () => {
    main = builtMain();
    await mock.start(0);
    port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...children].map((child) => kill(child, 'SIGKILL')));
    await db.end().catch(() => undefined);
    await mock.stop();
  });

  it('delivers every one of 200 accepted messages exactly once across a SIGKILL and restart', async () => {
    try {
      await killAndRestartScenario();
    } catch (error) {
      // The service's own log tells why it did not deliver.
      console.error(`service output (last 5000 characters):\n${output.slice(-5000)}`);
      throw error;
    }
  }, 150_000);

  async function killAndRestartScenario(): Promise<void> {
    // Empty tables, queue and provider records before the service starts: its worker would
    // otherwise deliver what earlier test files left queued, and a delivery of that still in
    // flight when the provider's records are cleared shows up as a key no message holds
    // (a fresh database has no tables yet: nothing to empty; the service migrates it).
    await emptyTables((sql) => db.query(sql)).catch(() => undefined);
    await clearProvider(mock);
    let child = await startService();

    const ids: number[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const answers = await Promise.all(
        Array.from({ length: TOTAL / 4 }, async (_, i) => {
          const n = batch * (TOTAL / 4) + i;
          const res = await fetch(`${baseUrl}/api/messages/sms`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              from: '+12015550100',
              to: `+1201555${String(1000 + n).padStart(4, '0')}`,
              type: 'sms',
              body: `durable ${n}`,
              attachments: [],
            }),
          });
          return { status: res.status, body: (await res.json()) as { id: number } };
        }),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(202);
        ids.push(answer.body.id);
      }
    }
    expect(new Set(ids).size).toBe(TOTAL);

    const before = await waitFor(
      async () => {
        const counts = await countByStatus();
        // Kill while deliveries are in flight (the provider may get requests it never answers).
        return (counts.sent ?? 0) >= TOTAL / 3 && (counts.sending ?? 0) > 0 ? counts : undefined;
      },
      'a third of the messages to be sent, with more in flight',
      60_000,
      20,
    );
    await kill(child, 'SIGKILL');
    const atKill = await countByStatus();
    // The kill really happened mid-delivery: messages were still waiting or in flight.
    expect(atKill.sent ?? 0).toBeLessThan(TOTAL);
    expect(before.sent).toBeLessThan(TOTAL);

    child = await startService();
    await waitFor(
      async () => ((await countByStatus()).sent ?? 0) === TOTAL,
      `all ${TOTAL} messages to be sent after the restart`,
      90_000,
      250,
    );
    const after = await countByStatus();
    expect(after).toEqual({ sent: TOTAL });

    const { rows } = await db.query<{ id: string; idempotency_key: string; provider_message_id: string; attempts: number }>(
      `SELECT id, idempotency_key, provider_message_id, attempts FROM messages ORDER BY id`,
    );
    expect(rows).toHaveLength(TOTAL);
    const received = await providerReceived(mock);
    const keys = received.map((r) => r.idempotency_key);
    expect(new Set(keys).size).toBe(TOTAL);
    expect(received).toHaveLength(TOTAL);
    expect(new Set(keys)).toEqual(new Set(rows.map((r) => r.idempotency_key)));
    // Each stored provider id is the one the provider gave that key.
    const providerIdByKey = new Map(received.map((r) => [r.idempotency_key, r.provider_message_id]));
    for (const row of rows) expect(row.provider_message_id).toBe(providerIdByKey.get(row.idempotency_key));
    // A request cut off by the kill still counts: attempts never fall behind what reached the provider.
    const acceptedByKey = new Map(received.map((r) => [r.idempotency_key, r.accepted_count]));
    const behind = rows.filter((row) => row.attempts < (acceptedByKey.get(row.idempotency_key) ?? 0));
    expect(behind).toEqual([]);
  }
});
