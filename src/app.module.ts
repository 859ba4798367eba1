import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { appConfig, Role } from './config/app.config';
import { ConversationsModule } from './conversations/conversations.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MessagesModule } from './messages/messages.module';
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
        ConversationsModule.forRole(role),
        MessagesModule.forRole(role),
        WebhooksModule.forRole(role),
        HealthModule,
      ],
    };
  }
}
