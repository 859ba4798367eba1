import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `messages.accepted_at`: when the message was last accepted for delivery, by its send
 * or by POST /api/messages/:id/retry. The delivery age limit (DELIVERY_MAX_AGE_S)
 * counts from it, so that a retried message gets a full delivery window again;
 * `created_at` stays the time the message was first stored. Existing rows take their
 * `created_at`.
 */
export class MessageAcceptedAt1795950000000 implements MigrationInterface {
  name = 'MessageAcceptedAt1795950000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" ADD "accepted_at" timestamptz`);
    await queryRunner.query(`UPDATE "messages" SET "accepted_at" = "created_at"`);
    await queryRunner.query(`ALTER TABLE "messages" ALTER COLUMN "accepted_at" SET NOT NULL, ALTER COLUMN "accepted_at" SET DEFAULT now()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "accepted_at"`);
  }
}
