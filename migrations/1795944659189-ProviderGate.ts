import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * State the provider gate shares between worker processes:
 * - `provider_pauses`: until when a provider is paused after it answered 429 (or 503)
 *   with Retry-After; every worker reads it before calling that provider;
 * - `provider_rate_limits`: the rate slots of rate-limiter-flexible's RateLimiterPostgres
 *   (the table layout that library creates itself, made here so that the schema only
 *   changes through migrations; the limiter runs with `tableCreated: true`).
 */
export class ProviderGate1795944659189 implements MigrationInterface {
  name = 'ProviderGate1795944659189';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "provider_pauses" (
        "provider" varchar(64) NOT NULL,
        "paused_until" timestamptz NOT NULL,
        "reason" text NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_provider_pauses" PRIMARY KEY ("provider")
      )`);
    await queryRunner.query(`
      CREATE TABLE "provider_rate_limits" (
        "key" varchar(255) NOT NULL,
        "points" integer NOT NULL DEFAULT 0,
        "expire" bigint,
        CONSTRAINT "PK_provider_rate_limits" PRIMARY KEY ("key")
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "provider_rate_limits"`);
    await queryRunner.query(`DROP TABLE "provider_pauses"`);
  }
}
