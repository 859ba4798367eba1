import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `messages.probe_attempts`: of a message's `attempts`, the requests it made as a
 * circuit breaker's test call that found the provider still down. They count in
 * `attempts` (every request made) but not towards DELIVERY_MAX_ATTEMPTS, so that a
 * message is not run out of attempts by probing a long outage.
 */
export class MessageProbeAttempts1795950200000 implements MigrationInterface {
  name = 'MessageProbeAttempts1795950200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" ADD "probe_attempts" integer NOT NULL DEFAULT 0`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "probe_attempts"`);
  }
}
