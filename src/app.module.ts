import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from './auth/auth.module';
import { appConfig, Role } from './config/app.config';
import { ConversationsModule } from './conversations/conversations.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MessagesModule } from './messages/messages.module';
import { OptOutsModule } from './opt-outs/opt-outs.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** The whole service; which parts run is decided by ROLE (see config/roles.ts). */
@Module({})
export class AppModule {
  /**
   * The application for a process of `role`: health endpoints always; client API and
   * webhooks for `all` and `api`; the delivery worker for `all` and `worker`.
   * @param role normally `loadAppConfig().role`, i.e. ROLE
   */
  static forRole(role: Role): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] }),
        DatabaseModule,
        // Global guards run in import order: the API key first, then the rate limit per key.
        AuthModule,
        RateLimitModule,
        ConversationsModule.forRole(role),
        MessagesModule.forRole(role),
        OptOutsModule.forRole(role),
        WebhooksModule.forRole(role),
        HealthModule,
      ],
    };
  }
}
