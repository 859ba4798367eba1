import { connect } from 'node:net';
import { Client } from 'pg';
import { MockProviderServer } from '../src/providers/mock/mock-provider.server';
import { builtMain, ServiceProcesses, type ServiceProcess } from './support/built-service';
import { emptyTables } from './support/database';
import { freePort } from './support/free-port';
import { clearProvider, providerReceived } from './support/mock-provider';
import { waitFor } from './support/test-app';

/**
 * ROLE=api and ROLE=worker as separate processes of the BUILT service against one
 * PostgreSQL (the test database) and a mock provider owned by the test: the API
 * process accepts, the worker process delivers; the worker serves only its health
 * endpoints; without a worker, messages stay queued.
 */

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

async function post(baseUrl: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

describe('Separate roles: API and worker processes (e2e, built service)', () => {
  const mock = new MockProviderServer();
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  const services = new ServiceProcesses();
  let main: string;
  let api: ServiceProcess;
  let worker: ServiceProcess;
  /** Where the API process would have started built-in mock providers, had it started any. */
  let apiMockPort: number;

  const start = (env: Record<string, string>): Promise<ServiceProcess> => services.start(main, { DELIVERY_JOB_EXPIRE_S: '60', ...env });

  const startWorker = (): Promise<ServiceProcess> => start({ ROLE: 'worker', MOCK_PROVIDER_URL: mock.url });

  /** Statuses of messages `ids`, in that order. */
  async function statusesOf(ids: number[]): Promise<string[]> {
    const { rows } = await db.query<{ id: string; status: string }>('SELECT id, status FROM messages WHERE id = ANY($1)', [ids]);
    return ids.map((id) => rows.find((r) => Number(r.id) === id)?.status ?? 'missing');
  }

  beforeAll(async () => {
    main = builtMain();
    await mock.start(0);
    await db.connect();
    apiMockPort = await freePort();
    // Nothing left by earlier test files for the worker to deliver (no tables yet: nothing to empty).
    await emptyTables((sql) => db.query(sql)).catch(() => undefined);
    // Both at once: migrations and the queue's schema are set up under advisory locks.
    [api, worker] = await Promise.all([
      // No MOCK_PROVIDER_URL: a ROLE=all process would start mock providers on MOCK_PROVIDER_PORT.
      start({ ROLE: 'api', MOCK_PROVIDER_PORT: String(apiMockPort) }),
      startWorker(),
    ]);
  }, 180_000);

  beforeEach(async () => {
    await emptyTables((sql) => db.query(sql));
    await clearProvider(mock);
  });

  afterAll(async () => {
    await services.killAll();
    await db.end().catch(() => undefined);
    await mock.stop();
  });

  it('delivers through the worker process what the API process accepted', async () => {
    const sms = await post(api.baseUrl, '/api/messages/sms', { from: '+12015550100', to: '+12015550101', type: 'sms', body: 'via worker', attachments: null });
    const email = await post(api.baseUrl, '/api/messages/email', { from: 'ann@example.com', to: 'bob@example.com', body: '<b>via worker</b>' });
    expect([sms.status, email.status]).toEqual([202, 202]);
    expect(sms.body.status).toBe('queued');

    for (const id of [sms.body.id, email.body.id]) {
      await waitFor(async () => (await fetch(`${api.baseUrl}/api/messages/${id}`).then((r) => r.json())).status === 'sent', `message ${id} to be sent`);
    }
    const received = await providerReceived(mock);
    expect(received.map((r) => [r.to, r.accepted_count]).sort()).toEqual([
      ['+12015550101', 1],
      ['bob@example.com', 1],
    ]);
    // The API process started no mock providers of its own.
    expect(await listening(apiMockPort)).toBe(false);
    expect(api.output()).not.toMatch(/Mock providers listening/);
    expect(api.output()).not.toMatch(/Delivery worker started/);
    expect(worker.output()).toMatch(/Delivery worker started/);
  });

  it('the worker process serves only /health and /health/ready', async () => {
    expect((await fetch(`${worker.baseUrl}/health`)).status).toBe(200);
    expect((await fetch(`${worker.baseUrl}/health/ready`)).status).toBe(200);
    const conversations = await fetch(`${worker.baseUrl}/api/conversations`);
    expect(conversations.status).toBe(404);
    expect(conversations.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    for (const path of ['/api/messages/1', '/docs', '/docs-json']) {
      expect([path, (await fetch(`${worker.baseUrl}${path}`)).status]).toEqual([path, 404]);
    }
    const body = { from: '+12015550100', to: '+12015550101', type: 'sms', body: 'x', attachments: null };
    expect((await post(worker.baseUrl, '/api/messages/sms', body)).status).toBe(404);
    expect((await post(worker.baseUrl, '/messages/send', body)).status).toBe(404);
    expect((await post(worker.baseUrl, '/api/webhooks/sms', { ...body, messaging_provider_id: 'p-1' })).status).toBe(404);
    expect(await db.query('SELECT 1 FROM messages')).toMatchObject({ rowCount: 0 });

    // The API process serves the API and its documentation.
    expect((await fetch(`${api.baseUrl}/api/conversations`)).status).toBe(200);
    expect((await fetch(`${api.baseUrl}/docs-json`)).status).toBe(200);
    expect((await fetch(`${api.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('leaves messages queued while no worker runs, and a worker started later delivers them', async () => {
    const stopped = await worker.stop('SIGTERM');
    expect(stopped).toMatchObject({ code: 0, signal: null });

    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(api.baseUrl, '/messages/send', { from: '+12015550100', to: `+1201555020${i}`, type: 'sms', body: `waiting ${i}` });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    await new Promise((r) => setTimeout(r, 3_000)); // six polling intervals of a worker
    expect(await statusesOf(ids)).toEqual(['queued', 'queued', 'queued']);
    expect(await providerReceived(mock)).toEqual([]);
    const { rows } = await db.query<{ state: string; count: number }>(
      `SELECT state, count(*)::int AS count FROM pgboss.job WHERE name = 'message-delivery' GROUP BY state`,
    );
    expect(rows).toEqual([{ state: 'created', count: 3 }]);

    worker = await startWorker();
    await waitFor(async () => (await statusesOf(ids)).every((s) => s === 'sent'), 'the queued messages to be sent', 15_000);
    const received = await providerReceived(mock);
    expect(received).toHaveLength(3);
    expect(received.every((r) => r.accepted_count === 1)).toBe(true);
  });
});
