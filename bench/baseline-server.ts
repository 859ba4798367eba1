/**
 * The bench's baseline: the fastest "accept a message" the same stack can do. Plain
 * Express (express.json) and a node-postgres pool, one INSERT ... RETURNING per request
 * into `bench_baseline_messages`, a table made `LIKE messages INCLUDING ALL` (same
 * columns, defaults, checks and indexes, no foreign key), answered 202 with the row as
 * JSON. No validation, no conversation, no queue: what the service does on top of this
 * is what the ratio prices.
 *
 * And the fastest read of a conversation's messages: GET /conversations/:id/messages
 * (`per_page`, and `after_time` + `after_id` for the page after a row), one keyset
 * SELECT of the columns the service's list shows on the seeded `messages` table, the
 * rows as JSON in the service's shape. No cursor, no Link header, no validation.
 *
 * Environment: BASELINE_DATABASE_URL, BASELINE_PORT, BASELINE_POOL_SIZE (default 20).
 */
import express from 'express';
import { Pool } from 'pg';

const INSERT = `
  INSERT INTO bench_baseline_messages
    (conversation_id, type, direction, status, from_address, to_address, body, attachments, "timestamp", provider, segments, encoding)
  VALUES (1, $1, 'outbound', 'queued', $2, $3, $4, $5::jsonb, COALESCE($6::timestamptz, now()), 'mock-sms', 1, 'GSM-7')
  RETURNING *`;

const COLUMNS =
  'id, conversation_id, type, direction, status, from_address, to_address, body, segments, encoding, attachments, ' +
  '"timestamp", provider, provider_message_id, attempts, error, created_at, updated_at, sent_at';
const FIRST_PAGE = `SELECT ${COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY "timestamp", id LIMIT $2`;
const PAGE_AFTER = `SELECT ${COLUMNS} FROM messages WHERE conversation_id = $1 AND ("timestamp", id) > ($3::timestamptz, $4::bigint) ORDER BY "timestamp", id LIMIT $2`;

/** A `messages` row as node-postgres parses it (bigint as a string, timestamptz as a Date). */
interface MessageRow {
  id: string;
  conversation_id: string;
  from_address: string;
  to_address: string;
  timestamp: Date;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
  [column: string]: unknown;
}

/** A `messages` row in the service's API shape. */
function messageJson(row: MessageRow): Record<string, unknown> {
  return {
    id: Number(row.id),
    conversation_id: Number(row.conversation_id),
    type: row.type,
    direction: row.direction,
    status: row.status,
    from: row.from_address,
    to: row.to_address,
    body: row.body,
    segments: row.segments,
    encoding: row.encoding,
    attachments: row.attachments,
    timestamp: row.timestamp.toISOString(),
    provider: row.provider,
    provider_message_id: row.provider_message_id,
    attempts: row.attempts,
    error: row.error,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    sent_at: row.sent_at ? row.sent_at.toISOString() : null,
  };
}

function main(): void {
  const pool = new Pool({ connectionString: process.env.BASELINE_DATABASE_URL, max: Number(process.env.BASELINE_POOL_SIZE ?? 20) });
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '2mb' }));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.post('/messages', (req, res, next) => {
    const b = req.body as { type?: string; from?: string; to?: string; body?: string; attachments?: unknown; timestamp?: string };
    pool
      .query<MessageRow>(INSERT, [b.type ?? 'sms', b.from, b.to, b.body, JSON.stringify(b.attachments ?? []), b.timestamp ?? null])
      .then(({ rows: [row] }) => res.status(202).json(messageJson(row)))
      .catch(next);
  });
  app.get('/conversations/:id/messages', (req, res, next) => {
    const q = req.query as { per_page?: string; after_time?: string; after_id?: string };
    const params = [req.params.id, Number(q.per_page ?? 50)];
    const query = q.after_time && q.after_id ? pool.query<MessageRow>(PAGE_AFTER, [...params, q.after_time, q.after_id]) : pool.query<MessageRow>(FIRST_PAGE, params);
    query.then(({ rows }) => res.json(rows.map(messageJson))).catch(next);
  });
  const server = app.listen(Number(process.env.BASELINE_PORT ?? 8100), '127.0.0.1');
  const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
