import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `record_sent_unless_held()`: records outbound messages `sent` in one round trip,
 * each under the advisory lock that orders it with delivery receipts
 * (DeliveryReceiptsService.recordSent, src/messages/delivery-receipts.service.ts).
 *
 * Called on its own (autocommit), the call is one transaction: each lock is taken
 * before its message is looked at and held until that transaction commits; the locks
 * are taken in the order of their keys, so two calls cannot deadlock. A PL/pgSQL
 * function marked VOLATILE takes a fresh snapshot for each statement it runs
 * (PostgreSQL manual, "Function Volatility Categories"), so the look at
 * `early_receipts` and the UPDATE see every receipt held by a transaction that had the
 * lock before; one SQL statement could not, its snapshot is taken before any lock it takes.
 *
 * For a message whose provider message id has receipts held, it changes nothing and
 * answers `held`: the caller then records `sent` and applies them in a transaction of
 * its own, with the rules of src/messages/receipt-transition.ts, which live in
 * TypeScript only. Answers `sent` for a message it recorded, `not_pending` for one no
 * longer `queued`/`sending` (nothing changed). One row per message given.
 */
export class RecordSentFunction1796000000000 implements MigrationInterface {
  name = 'RecordSentFunction1796000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION record_sent_unless_held(
        p_message_ids bigint[], p_providers varchar[], p_provider_message_ids varchar[],
        p_attempts integer[], p_sent_ats timestamptz[], p_lock_class integer
      ) RETURNS TABLE (o_message_id bigint, o_outcome text) LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        r record;
      BEGIN
        FOR r IN
          SELECT s.id, s.provider, s.provider_message_id, s.attempts, s.sent_at
            FROM unnest(p_message_ids, p_providers, p_provider_message_ids, p_attempts, p_sent_ats)
                 AS s(id, provider, provider_message_id, attempts, sent_at)
           ORDER BY hashtext(s.provider_message_id), s.id
        LOOP
          PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(r.provider_message_id));
          o_message_id := r.id;
          IF EXISTS (SELECT 1 FROM early_receipts e
                      WHERE e.provider_message_id = r.provider_message_id
                        AND (e.provider = r.provider OR e.provider IS NULL)) THEN
            o_outcome := 'held';
          ELSE
            UPDATE messages
               SET status = 'sent', provider_message_id = r.provider_message_id, sent_at = r.sent_at,
                   attempts = r.attempts, error = NULL, updated_at = now()
             WHERE id = r.id AND status IN ('queued', 'sending');
            o_outcome := CASE WHEN FOUND THEN 'sent' ELSE 'not_pending' END;
          END IF;
          RETURN NEXT;
        END LOOP;
      END
      $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION record_sent_unless_held(bigint[], varchar[], varchar[], integer[], timestamptz[], integer)`);
  }
}
