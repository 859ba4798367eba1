import { DynamicModule, Module } from '@nestjs/common';
import { Role } from '../config/app.config';
import { servesApi } from '../config/roles';
import { MessagesModule } from '../messages/messages.module';
import { WebhooksController } from './webhooks.controller';

/** Inbound webhooks of the providers; the application imports `WebhooksModule.forRole(role)`. */
@Module({})
export class WebhooksModule {
  /** The inbound webhook endpoints when `role` serves the API (`all`, `api`); nothing otherwise. */
  static forRole(role: Role): DynamicModule {
    return {
      module: WebhooksModule,
      imports: servesApi(role) ? [MessagesModule] : [],
      controllers: servesApi(role) ? [WebhooksController] : [],
    };
  }
}
