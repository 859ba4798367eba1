import { Module } from '@nestjs/common';
import { IdempotencyKeyGuard } from './idempotency-key.guard';
import { IdempotencyService } from './idempotency.service';

/**
 * Client idempotency keys on the send endpoints: IdempotencyService (claim and
 * complete a key inside the transaction that stores a message) and the guard
 * that reads the `Idempotency-Key` header (ApiIdempotentSend, @IdempotencyKey()).
 */
@Module({
  providers: [IdempotencyService, IdempotencyKeyGuard],
  exports: [IdempotencyService, IdempotencyKeyGuard],
})
export class IdempotencyModule {}
