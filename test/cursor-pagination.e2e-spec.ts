import { Client } from 'pg';
import { seed } from '../bench/lib/seed';
import { captureQueries } from './support/query-capture';
import { startTestApp, type TestApp } from './support/test-app';
import { smsBody } from './support/messages';

/** @returns the Link relations of an answer as rel -> URL */
function links(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(/,(?=\s*<)/)) {
    const match = /<([^>]*)>\s*;\s*rel="([^"]*)"/.exec(part.trim());
    if (match) out[match[2]] = match[1];
  }
  return out;
}

describe('Keyset (cursor) pagination', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ ROLE: 'api', RATE_LIMIT_REQUESTS: '0' });
  });
  afterAll(async () => t.close());
  beforeEach(async () => t.reset());

  /**
   * Follows rel="next" from `start` until there is none; checks every page: 200, at most
   * `perPage` rows, no X-Total-Count, a rel="first" with an empty cursor.
   * @returns the ids in the order read, and the number of pages
   */
  async function walk(start: string, perPage: number): Promise<{ ids: number[]; pages: number }> {
    const ids: number[] = [];
    let path: string | undefined = start;
    let pages = 0;
    while (path) {
      const res = await t.http.get(path).expect(200);
      expect(res.headers['x-total-count']).toBeUndefined();
      expect(res.body.length).toBeLessThanOrEqual(perPage);
      const rel = links(res.headers.link);
      expect(new URL(rel.first, 'http://x').searchParams.get('cursor')).toBe('');
      ids.push(...(res.body as { id: number }[]).map((r) => r.id));
      pages++;
      if (rel.next) expect(res.body.length).toBe(perPage); // only a full page has a next one
      path = rel.next;
      if (pages > 100) throw new Error('rel="next" never ended');
    }
    return { ids, pages };
  }

  /** @returns every id of a page/per_page list, in order (one page of 100) */
  async function allByPage(path: string): Promise<number[]> {
    const res = await t.http.get(`${path}${path.includes('?') ? '&' : '?'}page=1&per_page=100`).expect(200);
    return (res.body as { id: number }[]).map((r) => r.id);
  }

  it('walks the conversations with next links to the end, in the page order, ties by id, no row twice', async () => {
    for (let i = 0; i < 11; i++) await t.http.post('/api/messages/sms').send(smsBody(`hi ${i}`, { to: `+1201555${String(1000 + i)}` })).expect(202);
    // Ties: six conversations share one last_message_at (to the microsecond).
    await t.dataSource.query(`UPDATE conversations SET last_message_at = '2026-01-01T00:00:00.123456Z' WHERE id IN (2, 3, 5, 7, 8, 10)`);
    const expected = await allByPage('/api/conversations');
    expect(expected).toHaveLength(11);
    const { ids, pages } = await walk('/api/conversations?cursor=&per_page=4', 4);
    expect(ids).toEqual(expected);
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(11);
    // The tied ones come newest-id first, as the page order has them.
    expect(ids.filter((id) => [2, 3, 5, 7, 8, 10].includes(id))).toEqual([10, 8, 7, 5, 3, 2]);
  });

  it('keeps microseconds in the cursor: rows apart by 1 µs in one millisecond are neither skipped nor repeated', async () => {
    for (let i = 0; i < 5; i++) await t.http.post('/api/messages/sms').send(smsBody(`m ${i}`, { to: `+1201555${String(2000 + i)}` })).expect(202);
    await t.dataSource.query(
      `UPDATE conversations SET last_message_at = '2026-01-01T00:00:00.123000Z'::timestamptz + (id * interval '1 microsecond')`,
    );
    const { ids } = await walk('/api/conversations?cursor=&per_page=1', 1);
    expect(ids).toEqual([5, 4, 3, 2, 1]);
  });

  it("walks a conversation's messages oldest first, same timestamps ordered by id", async () => {
    for (let i = 0; i < 7; i++) {
      const timestamp = i < 4 ? '2024-11-01T14:00:00Z' : `2024-11-01T13:0${i}:00Z`; // four share one timestamp
      await t.http.post('/api/messages/sms').send(smsBody(`m ${i}`, { timestamp })).expect(202);
    }
    const expected = await allByPage('/api/conversations/1/messages');
    expect(expected).toEqual([5, 6, 7, 1, 2, 3, 4]);
    const { ids, pages } = await walk('/api/conversations/1/messages?cursor=&per_page=3', 3);
    expect(ids).toEqual(expected);
    expect(pages).toBe(3);
  });

  it('keeps the filters of GET /api/messages in the next links', async () => {
    for (let i = 0; i < 5; i++) await t.http.post('/api/messages/sms').send(smsBody(`s ${i}`)).expect(202);
    await t.http.post('/api/messages/email').send({ from: 'a@example.com', to: 'b@example.com', body: 'mail' }).expect(202);
    await t.dataSource.query(`UPDATE messages SET created_at = '2026-01-01T00:00:00Z' WHERE id IN (2, 3, 4)`);
    const expected = await allByPage('/api/messages?type=sms&direction=outbound');
    expect(expected).toHaveLength(5);
    const first = await t.http.get('/api/messages?type=sms&direction=outbound&cursor=&per_page=2').expect(200);
    const next = links(first.headers.link).next;
    expect(new URL(next, 'http://x').searchParams.get('type')).toBe('sms');
    expect(new URL(next, 'http://x').searchParams.get('direction')).toBe('outbound');
    const { ids } = await walk('/api/messages?type=sms&direction=outbound&cursor=&per_page=2', 2);
    expect(ids).toEqual(expected);
  });

  it('pages the opt-outs with a cursor too', async () => {
    for (let i = 0; i < 3; i++) {
      await t.http
        .post('/api/webhooks/sms')
        .send({ from: `+1804555${String(3000 + i)}`, to: '+12015550100', type: 'sms', messaging_provider_id: `stop-${i}`, body: 'STOP' })
        .expect(200);
    }
    const expected = await allByPage('/api/opt-outs');
    const { ids } = await walk('/api/opt-outs?cursor=&per_page=2', 2);
    expect(ids).toEqual(expected);
    expect(ids).toHaveLength(3);
  });

  it('answers an empty list with one empty page and no next link', async () => {
    const res = await t.http.get('/api/conversations?cursor=').expect(200);
    expect(res.body).toEqual([]);
    expect(links(res.headers.link)).toEqual({ first: '/api/conversations?cursor=&per_page=20' });
  });

  it('refuses a cursor that is not one of this list with 422 problem+json', async () => {
    for (let i = 0; i < 3; i++) await t.http.post('/api/messages/sms').send(smsBody(`c ${i}`, { to: `+1201555${String(4000 + i)}` })).expect(202);
    const conversationsNext = links((await t.http.get('/api/conversations?cursor=&per_page=1').expect(200)).headers.link).next;
    const conversationsCursor = new URL(conversationsNext, 'http://x').searchParams.get('cursor') as string;
    const forged = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64url');
    const bad = [
      'not a cursor!',
      'Zm9v', // base64 of "foo"
      forged({ l: 'messages', t: '2026-01-01T00:00:00.000000Z', i: '1; DROP TABLE messages' }),
      forged({ l: 'messages', t: '2026-01-01', i: '1' }),
      conversationsCursor, // a cursor of another list
    ];
    for (const cursor of bad) {
      const res = await t.http.get(`/api/messages?cursor=${encodeURIComponent(cursor)}`);
      expect([cursor, res.status]).toEqual([cursor, 422]);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 422, code: 'validation_failed', errors: [{ field: 'cursor' }] });
      expect(JSON.stringify(res.body)).not.toMatch(/DROP|SELECT|typeorm|postgres/i);
    }
    const repeated = await t.http.get('/api/conversations?cursor=&cursor=');
    expect(repeated.status).toBe(422);
    expect(await t.stored()).toMatchObject({ messages: 3, conversations: 3 });
  });

  it('refuses cursor together with page (422): one way of paging at a time', async () => {
    const res = await t.http.get('/api/conversations?cursor=&page=2');
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ field: 'page', message: expect.stringContaining('cursor') }]);
    // per_page is fine with either, and page alone still works as before (X-Total-Count).
    const paged = await t.http.get('/api/conversations?page=1&per_page=5').expect(200);
    expect(paged.headers['x-total-count']).toBe('0');
  });

  it('answers the keyset queries from the indexes (EXPLAIN of the SQL the service runs, on 50,000 analysed rows)', async () => {
    // The bench's seed at a twentieth of its size, then ANALYZE: the planner decides on real
    // statistics, as in production, with no enable_* switch forcing its hand (on a few rows it
    // is free to pick any plan, and PostgreSQL 15 and 18 picked differently).
    const client = new Client({ connectionString: (t.dataSource.options as { url: string }).url });
    await client.connect();
    try {
      await seed(client, { messages: 50_000, conversations: 1_000, big: 10, bigShare: 0.2 });
      await client.query('DROP TABLE bench_seed');
    } finally {
      await client.end();
    }
    const { queries: captured, stop } = captureQueries(t.dataSource);
    const explain = async (path: string): Promise<Record<string, unknown>[]> => {
      captured.length = 0;
      const first = await t.http.get(`${path}${path.includes('?') ? '&' : '?'}cursor=&per_page=20`).expect(200);
      await t.http.get(links(first.headers.link).next).expect(200);
      const query = captured.filter((q) => q.sql.includes('keyset_time')).pop()!;
      expect(query.sql).toMatch(/, "id"\) [<>] \(\$\d+::timestamptz, \$\d+::bigint\)/); // the page after a cursor: the row comparison
      const rows: { 'QUERY PLAN': unknown }[] = await t.dataSource.query(`EXPLAIN (FORMAT JSON) ${query.sql}`, query.params);
      const nodes: Record<string, unknown>[] = [];
      const collect = (node: Record<string, unknown>) => {
        nodes.push(node);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) collect(child);
      };
      collect((rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0].Plan);
      return nodes;
    };
    try {
      const plans = {
        conversations: await explain('/api/conversations'),
        conversationMessages: await explain('/api/conversations/1/messages'),
        messages: await explain('/api/messages'),
        failedMessages: await explain('/api/messages?status=failed'),
      };
      // The index is scanned in the list's order (nothing is sorted) and seeks to the cursor:
      // the row comparison is the scan's Index Cond.
      const indexCond = (plan: Record<string, unknown>[], index: string, column: string) => {
        const scan = plan.find((node) => node['Index Name'] === index);
        expect([index, scan?.['Index Cond']]).toEqual([index, expect.stringContaining(`ROW(${column}, id)`)]);
        expect(plan.map((node) => node['Node Type'])).not.toContain('Sort');
      };
      indexCond(plans.conversations, 'IDX_conversations_last_message_at', 'last_message_at');
      indexCond(plans.conversationMessages, 'IDX_messages_conversation_timestamp', '"timestamp"');
      indexCond(plans.messages, 'IDX_messages_created_at', 'created_at');
      indexCond(plans.failedMessages, 'IDX_messages_status_created_at', 'created_at');
    } finally {
      stop();
    }
  });

  it('reads the columns a message list shows, and shows every field of the message resource', async () => {
    const sent = await t.http.post('/api/messages/sms').send(smsBody('columns')).expect(202);
    const single = (await t.http.get(`/api/messages/${sent.body.id}`).expect(200)).body;
    const { queries: captured, stop } = captureQueries(t.dataSource);
    try {
      for (const path of ['/api/messages?cursor=', `/api/conversations/${sent.body.conversation_id}/messages?cursor=`]) {
        captured.length = 0;
        const res = await t.http.get(path).expect(200);
        expect(res.body).toEqual([single]);
        const sql = captured.find((q) => q.sql.includes('keyset_time'))!.sql;
        expect(sql).toContain('"sent_at"');
        expect(sql).not.toMatch(/SELECT \*|idempotency_key|accepted_at|probe_attempts/);
      }
    } finally {
      stop();
    }
  });
});
