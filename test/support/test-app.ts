import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { loadAppConfig } from '../../src/config/app.config';
import { configureApp } from '../../src/configure-app';
import { MockProviderServer, type MockProviderOptions } from '../../src/providers/mock/mock-provider.server';
import { emptyTables } from './database';
import { clearProvider } from './mock-provider';

/** A running service (real AppModule, real PostgreSQL) with its own mock providers over HTTP. */
export interface TestApp {
  app: INestApplication;
  /** supertest agent on the app's HTTP server. */
  http: TestAgent;
  /** The mock providers the app delivers to. */
  mock: MockProviderServer;
  dataSource: DataSource;
  /** Runs a `SELECT count(*) ...` (with `params` for $1, $2, ...) and returns the count as a number. */
  count(sql: string, params?: unknown[]): Promise<number>;
  /**
   * Rows in messages and conversations, and queued delivery jobs: every message-delivery
   * row of pgboss.job, whatever its state (not the archive); read in one statement.
   */
  stored(): Promise<{ messages: number; conversations: number; jobs: number }>;
  /** Empties messages, conversations (ids restart at 1), queued jobs and the mock's records. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Boots the real AppModule with configureApp(), as main.ts does, against the test
 * database, with mock providers on a free port (MOCK_PROVIDER_URL).
 * @param env extra environment for this app (e.g. DELIVERY_MAX_ATTEMPTS; ROLE picks AppModule.forRole, default all); restored on close
 * @param mockOptions failure injection of the mock providers
 */
export async function startTestApp(env: Record<string, string> = {}, mockOptions: MockProviderOptions = {}): Promise<TestApp> {
  const mock = new MockProviderServer(mockOptions);
  await mock.start(0);
  const saved = { ...process.env };
  Object.assign(process.env, { MOCK_PROVIDER_URL: mock.url, ROLE: 'all', ...env });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRole(loadAppConfig().role)] }).compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, logger: ['error'] });
  configureApp(app);
  await app.init();
  process.env = saved;
  const dataSource = app.get<DataSource>(getDataSourceToken());
  return {
    app,
    http: request(app.getHttpServer()),
    mock,
    dataSource,
    async count(sql, params = []) {
      const rows: { count: string }[] = await dataSource.query(sql, params);
      return Number(rows[0].count);
    },
    async stored() {
      const [row]: { messages: number; conversations: number; jobs: number }[] = await dataSource.query(
        `SELECT (SELECT count(*) FROM messages)::int AS messages,
                (SELECT count(*) FROM conversations)::int AS conversations,
                (SELECT count(*) FROM pgboss.job WHERE name = 'message-delivery')::int AS jobs`,
      );
      return row;
    },
    async reset() {
      await emptyTables((sql) => dataSource.query(sql));
      await clearProvider(mock);
    },
    async close() {
      await app.close();
      await mock.stop();
    },
  };
}

/**
 * Polls `probe` until it returns a value that is not undefined/false.
 * @param timeoutMs give up after this long (throws with `what`)
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits until message `id` has one of `statuses`, and returns it as the API shows it. */
export async function waitForStatus(t: TestApp, id: number, statuses: string[], timeoutMs = 15_000): Promise<Record<string, any>> {
  return waitFor(async () => {
    const res = await t.http.get(`/api/messages/${id}`);
    return statuses.includes(res.body.status) ? (res.body as Record<string, any>) : undefined;
  }, `message ${id} to become ${statuses.join('/')}`, timeoutMs);
}
