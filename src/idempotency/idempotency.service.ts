import { Injectable } from '@nestjs/common';
import { createHash } from 'crypto';
import type { EntityManager } from 'typeorm';
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError } from './idempotency.errors';
import type { IdempotentRequest, StoredAnswer } from './idempotent-request';

/** How long a key is remembered after the request that created its message, hours (as Stripe). */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

/** Expired keys of other requests deleted by each new key's claim (see claim()). */
export const PURGE_BATCH = 10;

/** A stored key as claim() reads it; all null when there is none. */
interface KeyRow {
  fingerprint: string | null;
  response_status: number | null;
  response_body: unknown;
  /** Stored and not expired. */
  live: boolean | null;
}

const KEY_COLUMNS = 'fingerprint, response_status, response_body, expires_at > now() AS live';

/**
 * The 64-bit advisory lock key of a (scope, key): the first 8 bytes of a SHA-256, as a
 * signed bigint in decimal. Computed here rather than with PostgreSQL's internal hash
 * functions, so every process and every server version agrees on it.
 */
export function advisoryLockKey(request: Pick<IdempotentRequest, 'scope' | 'key'>): string {
  return createHash('sha256').update(`idempotency-key\0${request.scope}\0${request.key}`).digest().readBigInt64BE(0).toString();
}

/**
 * Client idempotency keys (draft-ietf-httpapi-idempotency-key-header; Stripe's rules)
 * inside the transaction that stores a message. Use, in one transaction:
 * `claim()` first; when it returns an answer, replay it and store nothing; otherwise
 * store the message and its job, then `complete()`. The transaction's commit makes the
 * message, its job and its key visible at once; a rollback or a crash leaves none of them.
 *
 * In flight: claim() takes a transaction-level advisory lock on the key
 * (`pg_try_advisory_xact_lock`, never waiting). A second request with the key while the
 * first one's transaction is open does not get the lock and is answered 409 at once. The
 * lock ends with the transaction, also when its connection dies, so a crashed request
 * leaves nothing to expire: the next request with its key simply starts afresh.
 * Completed keys are rows of `idempotency_keys`, read without any lock, so retries of a
 * finished request replay concurrently without 409s.
 */
@Injectable()
export class IdempotencyService {
  /**
   * Decides what a request with an idempotency key does; call it first in the
   * transaction that will store the request's message.
   * @param manager the storing transaction's manager
   * @returns the stored answer to replay (the key was completed for the same request
   *   within its retention), or null: the request is new (or its key expired) and now
   *   holds the key until the transaction ends
   * @throws IdempotencyKeyReusedError (422) when the key was completed for a different request
   * @throws IdempotencyKeyInFlightError (409) when another request with the key is in flight
   */
  async claim(manager: EntityManager, request: IdempotentRequest): Promise<StoredAnswer | null> {
    assertInTransaction(manager);
    // One round trip: the stored key, and only when there is no live one, the lock.
    const [earlier]: (KeyRow & { locked: boolean | null })[] = await manager.query(
      `SELECT k.*, CASE WHEN k.live THEN NULL ELSE pg_try_advisory_xact_lock($3::bigint) END AS locked
         FROM (SELECT 1) AS one
         LEFT JOIN (SELECT ${KEY_COLUMNS} FROM idempotency_keys WHERE scope = $1 AND key = $2) AS k ON true`,
      [request.scope, request.key, advisoryLockKey(request)],
    );
    if (earlier.live) return answerFor(earlier, request);
    if (!earlier.locked) throw new IdempotencyKeyInFlightError();

    // Read again now that we hold the lock: a request that held it may have completed
    // the key after the read above. And purge a few expired keys of other requests, so
    // that the table holds about one retention period of keys without a scheduled job.
    const [current]: KeyRow[] = await manager.query(
      `WITH purged AS (
         DELETE FROM idempotency_keys
          WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys
                                  WHERE expires_at <= now() AND NOT (scope = $1 AND key = $2)
                                  ORDER BY expires_at
                                  LIMIT $3
                                    FOR UPDATE SKIP LOCKED))
       SELECT ${KEY_COLUMNS} FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [request.scope, request.key, PURGE_BATCH],
    );
    if (current?.live) return answerFor(current, request);
    return null; // new, or expired: complete() replaces an expired row
  }

  /**
   * Records the key of a request claim() let through, with the answer to replay, in
   * the transaction that stored its message. An expired row of the same key is replaced.
   * @param messageId the message the request created
   * @param answer the answer the client gets (replayed verbatim later)
   */
  async complete(manager: EntityManager, request: IdempotentRequest, messageId: string, answer: StoredAnswer): Promise<void> {
    assertInTransaction(manager);
    const rows: unknown[] = await manager.query(
      `INSERT INTO idempotency_keys AS k (scope, key, fingerprint, response_status, response_body, message_id, expires_at)
       VALUES ($1, $2, $3, $4, $5::json, $6, now() + make_interval(hours => $7))
       ON CONFLICT (scope, key) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, response_status = EXCLUDED.response_status,
              response_body = EXCLUDED.response_body, message_id = EXCLUDED.message_id,
              created_at = now(), expires_at = EXCLUDED.expires_at
        WHERE k.expires_at <= now()
       RETURNING 1`,
      [request.scope, request.key, request.fingerprint, answer.status, JSON.stringify(answer.body), messageId, IDEMPOTENCY_KEY_TTL_HOURS],
    );
    // A live row here means a request completed the key without holding its lock: never
    // by this service; refuse rather than overwrite (the transaction rolls back).
    if (rows.length !== 1) throw new IdempotencyKeyInFlightError();
  }
}

/** @throws IdempotencyKeyReusedError when the key was completed for another request */
function answerFor(row: KeyRow, request: IdempotentRequest): StoredAnswer {
  if (row.fingerprint !== request.fingerprint) throw new IdempotencyKeyReusedError();
  return { status: row.response_status as number, body: row.response_body };
}

/** An advisory xact lock or a key row outside a transaction would protect nothing. */
function assertInTransaction(manager: EntityManager): void {
  if (!manager.queryRunner?.isTransactionActive) throw new Error('IdempotencyService needs the transaction that stores the message');
}
