import { Module } from '@nestjs/common';
import { IdempotencyKeyInterceptor } from './idempotency-key.interceptor';
import { IdempotencyService } from './idempotency.service';

/**
 * Client idempotency keys on the send endpoints: IdempotencyService (claim and
 * complete a key inside the transaction that stores a message) and the interceptor
 * that reads the `Idempotency-Key` header (ApiIdempotentSend, @IdempotencyKey()).
 */
@Module({
  providers: [IdempotencyService, IdempotencyKeyInterceptor],
  exports: [IdempotencyService, IdempotencyKeyInterceptor],
})
export class IdempotencyModule {}
