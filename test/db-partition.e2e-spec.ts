import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { STORE_TIMEOUT_MS } from '../src/rate-limit/rate-limit.storage';
import { emptyTables } from './support/database';
import { smsBody } from './support/messages';
import { PartitionProxy } from './support/partition-proxy';
import { startTestApp, type TestApp, waitFor } from './support/test-app';

/**
 * A network partition between the service and PostgreSQL (docs/delivery.md, "PostgreSQL
 * is unreachable"): unlike a stopped server, a partition refuses nothing and closes
 * nothing, so without timeouts of our own a request would wait for minutes. The
 * service (in-process, ROLE=all) reaches the test database through a PartitionProxy;
 * the test reads the database directly.
 *
 * While partitioned, sends answer 503 problem+json within the query timeout
 * (DATABASE_QUERY_TIMEOUT_MS, 2 s here) or the connect timeout (5 s), /health/ready
 * answers 503 within its 2 s checks, /health 200. A request's own connect timeout
 * comes after the rate limit's wait for its counter (STORE_TIMEOUT_MS, or up to twice
 * that behind another batch of counts), so a lone send made while no connection is
 * left answers within their sum. Once healed the service accepts again
 * without a restart, and every stored message (every 202 among them) ends `sent`: a
 * transaction cut off by the partition in the middle (its INSERT running on the server)
 * is not left open on a pooled connection for the next request to commit without its
 * delivery job (DisposingClient, src/database/data-source-options.ts).
 */
const QUERY_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 5_000;
const PARTITION_MS = 8_000;

describe('Network partition between the service and PostgreSQL (e2e)', () => {
  let proxy: PartitionProxy;
  let t: TestApp;
  let direct: Client;

  beforeAll(async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    proxy = new PartitionProxy({ host: url.hostname, port: Number(url.port || 5432) });
    const proxied = new URL(url);
    proxied.port = String(await proxy.start());
    direct = new Client({ connectionString: url.toString() });
    await direct.connect();
    // One pooled connection: the one a cut-off transaction used is the next request's.
    t = await startTestApp({ DATABASE_URL: proxied.toString(), DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS), DATABASE_POOL_SIZE: '1' });
    await emptyTables((sql) => direct.query(sql));
    await direct.query(`
      CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.body = 'slow' THEN PERFORM pg_sleep(1); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER slow_insert BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION slow_insert();`);
  });
  afterAll(async () => {
    proxy.heal();
    await direct?.query(`DROP TRIGGER IF EXISTS slow_insert ON messages; DROP FUNCTION IF EXISTS slow_insert()`);
    await t?.close();
    await direct?.end();
    await proxy?.stop();
  });

  const timed = async <T>(call: () => Promise<T>): Promise<[T, number]> => {
    const started = performance.now();
    const result = await call();
    return [result, performance.now() - started];
  };

  it('answers 503 quickly while partitioned, is not ready, recovers without a restart, and loses nothing', async () => {
    const accepted: number[] = [];
    for (let i = 0; i < 5; i++) accepted.push((await t.http.post('/api/messages/sms').send(smsBody(`before ${i}`)).expect(202)).body.id);
    await waitFor(async () => Number((await direct.query(`SELECT count(*) FROM messages WHERE status = 'sent'`)).rows[0].count) === 5, 'the first 5 to be sent');

    // One send is in the middle of its transaction when the network goes: its INSERT runs
    // on the server (slowed by a trigger) while its answer is cut off.
    const cutOff = timed(() => t.http.post('/api/messages/sms').send(smsBody('slow')));
    await waitFor(async () => (await direct.query(`SELECT count(*) FROM pg_stat_activity WHERE query ~ '^\\s*INSERT INTO "?messages"? ' AND state = 'active'`)).rows[0].count === '1', 'the slow INSERT to run', 5_000, 10);
    proxy.partition();
    const partitionedAt = performance.now();
    const [cutOffAnswer, cutOffMs] = await cutOff;
    expect(cutOffAnswer.status).toBe(503);
    console.log(`partition: the send cut off mid-transaction answered ${cutOffAnswer.status} in ${Math.round(cutOffMs)} ms`);
    const [sends, ready, live] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, (_, i) => timed(() => t.http.post('/api/messages/sms').send(smsBody(`during ${i}`))))),
      timed(() => t.http.get('/health/ready')),
      timed(() => t.http.get('/health')),
    ]);
    const latencies = sends.map(([, ms]) => Math.round(ms));
    console.log(`partition: 8 sends answered ${sends.map(([r]) => r.status).join(',')} in ${latencies.join(', ')} ms; ready ${ready[0].status} in ${Math.round(ready[1])} ms; live ${live[0].status} in ${Math.round(live[1])} ms`);
    for (const [res, ms] of sends) {
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 1_000);
    }
    expect(ready[0].status).toBe(503);
    expect(ready[1]).toBeLessThan(4_000);
    expect(live[0].status).toBe(200);
    expect(live[1]).toBeLessThan(1_000);

    // A second round while still partitioned: the connections cut off above are gone, new ones time out.
    const [again, againMs] = await timed(() => t.http.post('/api/messages/sms').send(smsBody('still partitioned')));
    console.log(`partition: a send after the first round answered ${again.status} in ${Math.round(againMs)} ms`);
    expect(again.status).toBe(503);
    expect(againMs).toBeLessThan(STORE_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 1_000);
    // A list by cursor, whose query goes to the pg pool past TypeORM's query runner (queryValueArrays), answers the same.
    const [list, listMs] = await timed(() => t.http.get('/api/messages?cursor='));
    expect(list.status).toBe(503);
    expect(list.headers['content-type']).toContain('application/problem+json');
    expect(list.body).toMatchObject({ status: 503, code: 'service_unavailable', detail: expect.stringContaining('database') });
    expect(listMs).toBeLessThan(STORE_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 1_000);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, PARTITION_MS - (performance.now() - partitionedAt))));
    proxy.heal();
    const healedAt = performance.now();
    const first = await waitFor(
      async () => {
        const res = await t.http.post('/api/messages/sms').send(smsBody('after'));
        return res.status === 202 ? res : undefined;
      },
      'a send to be accepted again',
      20_000,
      100,
    );
    const recoveredMs = performance.now() - healedAt;
    accepted.push(first.body.id);
    await waitFor(async () => (await t.http.get('/health/ready')).status === 200, 'ready again', 20_000, 100);
    console.log(`partition: first 202 ${Math.round(recoveredMs)} ms after the heal`);
    expect(recoveredMs).toBeLessThan(10_000);

    // Every stored message ends sent, the 202s among them; none is left pending without a job.
    await waitFor(
      async () => Number((await direct.query(`SELECT count(*) FROM messages WHERE status <> 'sent'`)).rows[0].count) === 0,
      'every stored message to be sent',
      90_000,
      200,
    );
    const stored = (await direct.query(`SELECT id::int AS id FROM messages`)).rows.map((r: { id: number }) => r.id);
    expect(stored).toEqual(expect.arrayContaining(accepted));
  }, 150_000);
});
