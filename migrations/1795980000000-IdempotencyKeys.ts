import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Client idempotency keys (`Idempotency-Key` on the send endpoints): one row per
 * (scope, key) that created a message, with the answer to replay until `expires_at`.
 * The row is written in the same transaction as its message, and goes with it
 * (ON DELETE CASCADE), so a key never points at nothing. `expires_at` is indexed for
 * the purge of expired keys; `message_id` for the cascade.
 */
export class IdempotencyKeys1795980000000 implements MigrationInterface {
  name = 'IdempotencyKeys1795980000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "idempotency_keys" (
        "scope" varchar(64) NOT NULL,
        "key" varchar(255) NOT NULL,
        "fingerprint" char(64) NOT NULL,
        "response_status" smallint NOT NULL,
        "response_body" json NOT NULL,
        "message_id" bigint NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "PK_idempotency_keys" PRIMARY KEY ("scope", "key"),
        CONSTRAINT "FK_idempotency_keys_message" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_idempotency_keys_expires_at" ON "idempotency_keys" ("expires_at")`);
    await queryRunner.query(`CREATE INDEX "IDX_idempotency_keys_message_id" ON "idempotency_keys" ("message_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
  }
}
