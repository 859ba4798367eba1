import { MigrationInterface, QueryRunner } from 'typeorm';
import { smsSegments } from '../src/messages/sms-segments';

/** Messages counted per statement when existing SMS/MMS messages are filled in. */
const BATCH = 1000;

/**
 * `segments` and `encoding` of SMS/MMS messages (src/messages/sms-segments.ts): how many
 * SMS segments the body takes and in which encoding; both null for email. The service
 * sets them when it stores a message; this migration fills them in for the SMS and MMS
 * messages stored before it, in batches of 1,000 by id (the rule is code, not SQL).
 * The check allows null on sms/mms (rows written by hand, as some tests do), never
 * values on email, and both or neither (its IS NOT NULLs keep a NULL from passing it).
 */
export class MessageSegments1795970000000 implements MigrationInterface {
  name = 'MessageSegments1795970000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" ADD "segments" integer`);
    await queryRunner.query(`ALTER TABLE "messages" ADD "encoding" varchar(8)`);
    let after = '0';
    for (;;) {
      const rows: { id: string; body: string }[] = await queryRunner.query(
        `SELECT "id", "body" FROM "messages" WHERE "type" IN ('sms', 'mms') AND "id" > $1 ORDER BY "id" LIMIT ${BATCH}`,
        [after],
      );
      if (rows.length === 0) break;
      const counted = rows.map((row) => smsSegments(row.body));
      await queryRunner.query(
        `UPDATE "messages" AS m SET "segments" = v.segments, "encoding" = v.encoding
         FROM unnest($1::bigint[], $2::integer[], $3::varchar[]) AS v(id, segments, encoding)
         WHERE m."id" = v.id`,
        [rows.map((row) => row.id), counted.map((c) => c.segments), counted.map((c) => c.encoding)],
      );
      after = rows[rows.length - 1].id;
    }
    await queryRunner.query(
      `ALTER TABLE "messages" ADD CONSTRAINT "CHK_messages_segments" CHECK (("segments" IS NULL AND "encoding" IS NULL) OR ("type" IN ('sms', 'mms') AND "segments" IS NOT NULL AND "encoding" IS NOT NULL AND "segments" >= 1 AND "encoding" IN ('GSM-7', 'UCS-2')))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" DROP CONSTRAINT "CHK_messages_segments"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "encoding"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "segments"`);
  }
}
