// C12 needs the service to run in a zone other than UTC. Set first, before anything is
// loaded. Jest gives each test file a copy of process.env, so this line alone does not
// move the clock of this (jest) process; the C12 block therefore starts the service as
// a child process whose environment carries it (see startServiceProcess).
process.env.TZ = 'Asia/Shanghai';

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { MockProviderServer } from '../src/providers/mock/mock-provider.server';
import { emptyTables } from './support/database';
import { freePort } from './support/free-port';
import { startTestApp, TestApp, waitFor, waitForStatus } from './support/test-app';

/** The service (src/main.ts, as `npm start` runs it) in a child process of its own. */
interface ServiceProcess {
  http: TestAgent;
  stop(): Promise<void>;
}

/**
 * Starts src/main.ts with ts-node in a child process with `env` added to this file's
 * environment, and waits until GET /health answers.
 * @throws with the child's output when it exits or does not become live in 60 s
 */
async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
        return fetch(`${baseUrl}/health`).then((r) => r.ok, () => false);
      },
      'the service process to answer GET /health',
      60_000,
      200,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- service output ---\n${output}`);
  }
  return {
    http: request(baseUrl) as unknown as TestAgent,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

describe('C12: time zones (service started with TZ=Asia/Shanghai)', () => {
  const env = { TZ: 'Asia/Shanghai', ROLE: 'all' };
  let service: ServiceProcess;
  let mock: MockProviderServer;
  let db: Client;

  /**
   * Runs a `SELECT count(*) ...` and returns the count as a number, as TestApp.count does,
   * but over this block's own connection `db`: the service runs in a child process here
   * (for its TZ), so there is no TestApp.
   */
  async function count(sql: string): Promise<number> {
    return Number((await db.query<{ count: string }>(sql)).rows[0].count);
  }

  /** Seconds since the epoch of message `id`'s stored timestamp, as PostgreSQL sees it. */
  async function storedEpoch(id: number): Promise<number> {
    return Number((await db.query<{ epoch: string }>('SELECT extract(epoch FROM "timestamp") AS epoch FROM messages WHERE id = $1', [id])).rows[0].epoch);
  }

  beforeAll(async () => {
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    mock = new MockProviderServer();
    await mock.start(0);
    // Nothing left by earlier test files for its worker to deliver (no tables yet: nothing to empty).
    await emptyTables((sql) => db.query(sql)).catch(() => undefined);
    service = await startServiceProcess({ ...env, MOCK_PROVIDER_URL: mock.url });
    await emptyTables((sql) => db.query(sql)); // a fresh database: the service has just created the tables
  }, 90_000);
  afterAll(async () => {
    await service?.stop();
    await mock?.stop();
    await db?.end();
  });

  it('runs the service process in a zone 8 hours east of UTC', () => {
    const probe = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(new Date(2024, 10, 1).getTimezoneOffset()))'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(probe.stdout).toBe('-480');
  });

  it('reads a Z timestamp back unchanged, in UTC, and stores the same instant', async () => {
    const sent = await service.http
      .post('/api/messages/sms')
      .send({ from: '+12015550100', to: '+12015550123', type: 'sms', body: 'tz', timestamp: '2024-11-01T14:00:00Z' })
      .expect(202);
    expect(sent.body.timestamp).toBe('2024-11-01T14:00:00.000Z');
    const read = await service.http.get(`/api/messages/${sent.body.id}`).expect(200);
    expect(read.body.timestamp).toBe('2024-11-01T14:00:00.000Z');
    const list = await service.http.get(`/api/conversations/${sent.body.conversation_id}/messages`).expect(200);
    expect(list.body.find((m: { id: number }) => m.id === sent.body.id).timestamp).toBe('2024-11-01T14:00:00.000Z');
    expect(await storedEpoch(sent.body.id)).toBe(Date.UTC(2024, 10, 1, 14) / 1000);
  });

  it('converts offsets to UTC on sends and webhooks', async () => {
    const cases: [string, string][] = [
      ['2024-11-01T14:00:00+02:00', '2024-11-01T12:00:00.000Z'],
      ['2024-11-01T22:00:00+08:00', '2024-11-01T14:00:00.000Z'],
      ['2024-11-01T09:00:00.250-05:00', '2024-11-01T14:00:00.250Z'],
    ];
    for (const [i, [input, utc]] of cases.entries()) {
      const sent = await service.http
        .post('/messages/send')
        .send({ from_: '+12015550100', to: '+12015550123', type: 'sms', body: 'tz', timestamp: input })
        .expect(202);
      expect(sent.body.timestamp).toBe(utc);
      const inbound = await service.http
        .post('/api/webhooks/sms')
        .send({ from: '+12015550123', to: '+12015550100', type: 'sms', messaging_provider_id: `SM-TZ-${i}`, body: 'tz', timestamp: input })
        .expect(200);
      expect(inbound.body.message.timestamp).toBe(utc);
      for (const id of [sent.body.id, inbound.body.message.id]) {
        expect((await service.http.get(`/api/messages/${id}`).expect(200)).body.timestamp).toBe(utc);
        expect(await storedEpoch(id)).toBe(Date.parse(utc) / 1000);
      }
    }
  });

  it('answers 422 to a timestamp without a zone on every endpoint and stores nothing', async () => {
    await db.query('TRUNCATE messages, conversations RESTART IDENTITY CASCADE');
    const timestamp = '2024-11-01T14:00:00';
    const calls = [
      service.http.post('/api/messages/sms').send({ from: '+12015550100', to: '+12015550123', type: 'sms', body: 'x', timestamp }),
      service.http.post('/messages/send').send({ from: '+12015550100', to: '+12015550123', type: 'sms', body: 'x', timestamp }),
      service.http.post('/api/messages/email').send({ from: 'a@example.com', to: 'b@example.com', body: 'x', timestamp }),
      service.http.post('/api/webhooks/sms').send({ from: '+12015550123', to: '+12015550100', type: 'sms', messaging_provider_id: 'SM-TZ-none', body: 'x', timestamp }),
      service.http.post('/api/webhooks/email').send({ from: 'b@example.com', to: 'a@example.com', xillio_id: 'XL-TZ-none', body: 'x', timestamp }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'timestamp' })]));
    }
    expect(await count('SELECT count(*) FROM messages')).toBe(0);
    expect(await count('SELECT count(*) FROM conversations')).toBe(0);
  });

  it('keeps every time column timestamptz and the service clocks in real UTC', async () => {
    const plain = await db.query(`
      SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name IN ('messages', 'conversations')
         AND data_type = 'timestamp without time zone'`);
    expect(plain.rows).toEqual([]);

    const before = Date.now();
    const sent = await service.http
      .post('/api/messages/sms')
      .send({ from: '+12015550100', to: '+12015550123', type: 'sms', body: 'clock' })
      .expect(202);
    const delivered = await waitFor(async () => {
      const res = await service.http.get(`/api/messages/${sent.body.id}`);
      return res.body.status === 'sent' ? (res.body as Record<string, string>) : undefined;
    }, 'the message to be sent');
    const after = Date.now();
    const conversation = (await service.http.get(`/api/conversations/${sent.body.conversation_id}`).expect(200)).body;
    const slackMs = 60_000;
    for (const value of [delivered.timestamp, delivered.created_at, delivered.updated_at, delivered.sent_at, conversation.last_message_at]) {
      expect(value).toMatch(/Z$/);
      expect(Date.parse(value)).toBeGreaterThanOrEqual(before - slackMs);
      expect(Date.parse(value)).toBeLessThanOrEqual(after + slackMs);
    }
  });
});

/**
 * Turns PostgreSQL's index scans off (or back on) for new sessions on the test database.
 * Reading the (conversation_id, timestamp, id) index, PostgreSQL returns ties in id order
 * even to a query that does not ask for it, which would hide a missing tie-breaker; with
 * index scans off it sorts, as a planner may choose to on a large table, and only a total
 * ORDER BY gives stable pages.
 */
async function setIndexScans(on: boolean): Promise<void> {
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  try {
    const name = (await db.query<{ name: string }>('SELECT current_database() AS name')).rows[0].name;
    const database = `"${name.replace(/"/g, '""')}"`;
    for (const setting of ['enable_indexscan', 'enable_indexonlyscan', 'enable_bitmapscan']) {
      await db.query(on ? `ALTER DATABASE ${database} RESET ${setting}` : `ALTER DATABASE ${database} SET ${setting} = off`);
    }
  } finally {
    await db.end();
  }
}

describe('Cases: reads (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    await setIndexScans(false);
    t = await startTestApp();
  });
  beforeEach(async () => t.reset());
  afterAll(async () => {
    await t?.close();
    await setIndexScans(true);
  });

  function inboundSms(id: string, timestamp: string, from = '+12015550123', to = '+12015550100') {
    return t.http.post('/api/webhooks/sms').send({ from, to, type: 'sms', messaging_provider_id: id, body: `m ${id}`, timestamp });
  }

  describe('C13: pagination with ties', () => {
    const timestamp = '2024-11-01T14:00:00Z';

    /**
     * Stores 25 messages with one timestamp in one conversation: inbound and outbound
     * alternately. The delivery worker then updates the outbound rows (queued -> sent),
     * which moves them within the table, so that storage order differs from id order
     * as it does in a live database.
     */
    async function storeTies(): Promise<number> {
      const outbound: number[] = [];
      for (let i = 0; i < 25; i++) {
        if (i % 2) {
          const res = await t.http
            .post('/api/messages/sms')
            .send({ from: '+12015550100', to: '+12015550123', type: 'sms', body: `out ${i}`, timestamp })
            .expect(202);
          outbound.push(res.body.id);
        } else {
          await inboundSms(`SM-C13-${i}`, timestamp).expect(200);
        }
      }
      for (const id of outbound) await waitForStatus(t, id, ['sent']);
      const rows: { id: string }[] = await t.dataSource.query('SELECT DISTINCT conversation_id AS id FROM messages');
      expect(rows).toHaveLength(1);
      return Number(rows[0].id);
    }

    it('pages 25 same-timestamp messages as 25 distinct ids over 3 pages of 10, then []', async () => {
      const conversationId = await storeTies();
      const seen: number[] = [];
      for (const [page, size] of [[1, 10], [2, 10], [3, 5]]) {
        const res = await t.http.get(`/api/conversations/${conversationId}/messages?per_page=10&page=${page}`).expect(200);
        expect(res.body).toHaveLength(size);
        expect(res.headers['x-total-count']).toBe('25');
        seen.push(...res.body.map((m: { id: number }) => m.id));
      }
      expect(new Set(seen).size).toBe(25);
      const stored: { id: string }[] = await t.dataSource.query('SELECT id FROM messages ORDER BY id');
      expect(seen).toEqual(stored.map((r) => Number(r.id)));

      const page4 = await t.http.get(`/api/conversations/${conversationId}/messages?per_page=10&page=4`).expect(200);
      expect(page4.body).toEqual([]);
      expect(page4.headers['x-total-count']).toBe('25');
    });

    it('links the pages with RFC 8288 next/prev relations that a client can follow', async () => {
      const conversationId = await storeTies();
      const first = await t.http.get(`/api/conversations/${conversationId}/messages?per_page=10`).expect(200);
      const relations = (link: string | undefined) => {
        const out: Record<string, string> = {};
        for (const part of (link ?? '').split(',')) {
          const match = /<([^>]+)>\s*;\s*rel="([^"]+)"/.exec(part);
          if (match) out[match[2]] = match[1];
        }
        return out;
      };
      const links1 = relations(first.headers.link);
      expect(links1.next).toBeDefined();
      expect(links1.prev).toBeUndefined();

      const second = await t.http.get(links1.next).expect(200);
      const links2 = relations(second.headers.link);
      expect(links2.prev).toBeDefined();
      expect(links2.next).toBeDefined();
      const third = await t.http.get(links2.next).expect(200);
      const links3 = relations(third.headers.link);
      expect(links3.next).toBeUndefined();
      expect(links3.prev).toBeDefined();

      const back = await t.http.get(links2.prev).expect(200);
      expect(back.body).toEqual(first.body);
      const ids = [first, second, third].flatMap((r) => r.body.map((m: { id: number }) => m.id));
      expect(ids).toHaveLength(25);
      expect(new Set(ids).size).toBe(25);
    });

    it('orders by timestamp first, then by id', async () => {
      await inboundSms('late', '2024-11-01T14:02:00Z').expect(200); // id 1
      await inboundSms('early', '2024-11-01T13:00:00+00:00').expect(200); // id 2
      await inboundSms('tie-a', '2024-11-01T14:01:00Z').expect(200); // id 3
      await inboundSms('tie-b', '2024-11-01T15:01:00+01:00').expect(200); // id 4, same instant as id 3
      const res = await t.http.get('/api/conversations/1/messages').expect(200);
      expect(res.body.map((m: { id: number }) => m.id)).toEqual([2, 3, 4, 1]);
    });

    const badQueries = ['per_page=0', 'per_page=-1', 'page=abc', 'per_page=abc', 'per_page=101', 'per_page=1.5', 'page=0', 'page=-1', 'page=1.5', 'page='];
    it.each(badQueries)('answers 422 to ?%s on message and conversation lists', async (query) => {
      await inboundSms('one', timestamp).expect(200);
      for (const path of ['/api/conversations/1/messages', '/api/conversations']) {
        const res = await t.http.get(`${path}?${query}`);
        expect(res.status).toBe(422);
        expect(res.headers['content-type']).toContain('application/problem+json');
      }
    });
  });

  describe('C14: ids', () => {
    it('serialises id and conversation_id as JSON numbers everywhere', async () => {
      const sent = await t.http
        .post('/api/messages/sms')
        .send({ from: '+12015550100', to: '+12015550123', type: 'sms', body: 'out', timestamp: '2024-11-01T14:00:00Z' })
        .expect(202);
      const inbound = await inboundSms('SM-C14', '2024-11-01T14:01:00Z').expect(200);
      const email = await t.http.post('/api/messages/email').send({ from: 'a@example.com', to: 'b@example.com', body: 'hi' }).expect(202);
      const legacy = await t.http.post('/messages/send').send({ from_: '+12015550100', to: '+12015550123', type: 'sms', body: 'x' }).expect(202);
      await waitForStatus(t, sent.body.id, ['sent']);

      const messages = [
        sent.body,
        inbound.body.message,
        email.body,
        legacy.body,
        (await t.http.get(`/api/messages/${sent.body.id}`).expect(200)).body,
        ...(await t.http.get(`/api/conversations/${sent.body.conversation_id}/messages`).expect(200)).body,
      ];
      for (const m of messages) {
        expect(Number.isSafeInteger(m.id)).toBe(true);
        expect(Number.isSafeInteger(m.conversation_id)).toBe(true);
      }
      const conversations = [
        ...(await t.http.get('/api/conversations').expect(200)).body,
        (await t.http.get(`/api/conversations/${sent.body.conversation_id}`).expect(200)).body,
      ];
      expect(conversations).toHaveLength(3);
      for (const c of conversations) expect(Number.isSafeInteger(c.id)).toBe(true);
    });

    it('documents the ids as numbers in the OpenAPI document', async () => {
      const doc = (await t.http.get('/docs-json').expect(200)).body;
      const schemas = doc.components.schemas;
      for (const [schema, property] of [['MessageResponse', 'id'], ['MessageResponse', 'conversation_id'], ['ConversationResponse', 'id']]) {
        expect(['integer', 'number']).toContain(schemas[schema].properties[property].type);
      }
    });

    const badIds = ['abc', '1.5', '99999999999999999999', '9223372036854775808', '-1', '0', '1e3', '0x1', '%20', '1%00', '%F0%9F%92%A9'];
    const paths = ['/api/conversations/:id/messages', '/api/conversations/:id', '/api/messages/:id'];
    it.each(paths)('answers 422 or 404, never 500, to malformed or impossible ids on %s', async (path) => {
      await inboundSms('one', '2024-11-01T14:00:00Z').expect(200);
      const answers: Record<string, string> = {};
      for (const id of badIds) {
        const res = await t.http.get(path.replace(':id', id));
        answers[id] = `${res.status} ${res.headers['content-type']}`;
      }
      const wrong = Object.entries(answers).filter(([, answer]) => !/^(404|422) application\/problem\+json/.test(answer));
      expect(wrong).toEqual([]);
      const missing = await t.http.get(path.replace(':id', '9007199254740991'));
      expect(missing.status).toBe(404);
    });
  });

  describe('conversations list order', () => {
    it('lists conversations by the time the service stored their latest message, newest first', async () => {
      const byId = async () => (await t.http.get('/api/conversations').expect(200)).body.map((c: { id: number }) => c.id);
      const conversationOf = (res: { body: { message?: { conversation_id: number }; conversation_id?: number } }) =>
        (res.body.message ?? res.body).conversation_id as number;
      // A's first message carries a later sender timestamp than B's; B is stored later.
      const a = conversationOf(await inboundSms('a-1', '2024-06-01T00:00:00Z', '+12015550101').expect(200));
      const b = conversationOf(await inboundSms('b-1', '2024-01-01T00:00:00Z', '+12015550102').expect(200));
      expect(await byId()).toEqual([b, a]);

      // An old sender timestamp still makes A the latest activity.
      await inboundSms('a-2', '2020-01-01T00:00:00Z', '+12015550101').expect(200);
      expect(await byId()).toEqual([a, b]);

      // A third conversation, then a redelivered webhook of B that stores nothing.
      const c = conversationOf(await t.http.post('/api/messages/email').send({ from: 'a@example.com', to: 'b@example.com', body: 'hi' }).expect(202));
      expect(await byId()).toEqual([c, a, b]);
      await inboundSms('b-1', '2024-01-01T00:00:00Z', '+12015550102').expect(200);
      expect(await byId()).toEqual([c, a, b]);

      const conversations = (await t.http.get('/api/conversations').expect(200)).body as { last_message_at: string }[];
      const times = conversations.map((x) => Date.parse(x.last_message_at));
      expect([...times].sort((x, y) => y - x)).toEqual(times);

      const paged = [1, 2, 3].map((page) => t.http.get(`/api/conversations?per_page=1&page=${page}`));
      expect((await Promise.all(paged)).map((r) => r.body[0].id)).toEqual([c, a, b]);
    });

    it('breaks ties in activity time by id, so pages never repeat or skip a conversation', async () => {
      for (let i = 0; i < 25; i++) await inboundSms(`tie-${i}`, '2024-11-01T14:00:00Z', `+1201555${2000 + i}`).expect(200);
      // Messages stored in transactions that started in the same microsecond tie; make all 25 tie.
      await t.dataSource.query(`UPDATE conversations SET last_message_at = '2024-11-01T14:00:00Z'`);
      const ids: number[] = [];
      for (const page of [1, 2, 3, 4]) {
        const res = await t.http.get(`/api/conversations?per_page=10&page=${page}`).expect(200);
        expect(res.headers['x-total-count']).toBe('25');
        ids.push(...res.body.map((c: { id: number }) => c.id));
      }
      const stored: { id: string }[] = await t.dataSource.query('SELECT id FROM conversations ORDER BY id DESC');
      expect(ids).toEqual(stored.map((r) => Number(r.id)));
    });
  });
});
