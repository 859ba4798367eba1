import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard';

/**
 * Client authentication: installs ApiKeyGuard on every endpoint of the application,
 * so a new client endpoint is protected without doing anything; health and webhooks
 * opt out with @Public(). Import it before RateLimitModule: global guards run in the
 * order their modules are imported, and the rate limit counts per authenticated key.
 */
@Module({
  providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
})
export class AuthModule {}
