import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app.config';
import { ClientThrottlerGuard } from './client-throttler.guard';
import { RateLimitStorage } from './rate-limit.storage';

/**
 * The client rate limit: RATE_LIMIT_REQUESTS requests per RATE_LIMIT_WINDOW_S per
 * API key (per client IP while the API runs open), counted in PostgreSQL so that all
 * API processes share one budget per key; 0 turns it off. ClientThrottlerGuard is
 * installed on every endpoint; @Public() ones are not counted. Import it after
 * AuthModule (its guard must run first: the count is per authenticated key).
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [appConfig.KEY, DataSource],
      useFactory: (config: ConfigType<typeof appConfig>, dataSource: DataSource) => ({
        throttlers: [{ name: 'default', limit: config.rateLimit.requests, ttl: config.rateLimit.windowMs }],
        skipIf: () => config.rateLimit.requests === 0,
        storage: RateLimitStorage.postgres(dataSource),
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ClientThrottlerGuard }],
})
export class RateLimitModule {}
