import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for GET /api/messages (newest first, optionally by status: the dead-letter
 * list is `status=failed`) and for delivery receipts, which name a message by its
 * provider message id alone. A btree read backwards serves `created_at DESC, id DESC`.
 */
export class MessageListIndexes1795944430825 implements MigrationInterface {
  name = 'MessageListIndexes1795944430825';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "IDX_messages_created_at" ON "messages" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "IDX_messages_status_created_at" ON "messages" ("status", "created_at", "id")`);
    await queryRunner.query(
      `CREATE INDEX "IDX_messages_provider_message_id" ON "messages" ("provider_message_id") WHERE "provider_message_id" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_messages_provider_message_id"`);
    await queryRunner.query(`DROP INDEX "IDX_messages_status_created_at"`);
    await queryRunner.query(`DROP INDEX "IDX_messages_created_at"`);
  }
}
