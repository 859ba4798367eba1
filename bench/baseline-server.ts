/**
 * The bench's baseline: the fastest "accept a message" the same stack can do. Plain
 * Express (express.json) and a node-postgres pool, one INSERT ... RETURNING per request
 * into `bench_baseline_messages`, a table made `LIKE messages INCLUDING ALL` (same
 * columns, defaults, checks and indexes, no foreign key), answered 202 with the row as
 * JSON. No validation, no conversation, no queue: what the service does on top of this
 * is what the ratio prices.
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
      .query(INSERT, [b.type ?? 'sms', b.from, b.to, b.body, JSON.stringify(b.attachments ?? []), b.timestamp ?? null])
      .then(({ rows: [row] }) => {
        res.status(202).json({
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
          sent_at: null,
        });
      })
      .catch(next);
  });
  const server = app.listen(Number(process.env.BASELINE_PORT ?? 8100), '127.0.0.1');
  const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
