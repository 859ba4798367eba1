import { DynamicModule, Module } from '@nestjs/common';
import { Role } from '../config/app.config';
import { servesApi } from '../config/roles';
import { MessagesModule } from '../messages/messages.module';
import { ProvidersModule } from '../providers/providers.module';
import { WebhookSignatureGuard } from './webhook-signature.guard';
import { WebhookSignatures } from './webhook-signatures.service';
import { WebhooksController } from './webhooks.controller';

/** Inbound webhooks of the providers; the application imports `WebhooksModule.forRole(role)`. */
@Module({})
export class WebhooksModule {
  /** The inbound webhook endpoints and their signature checks when `role` serves the API (`all`, `api`); nothing otherwise. */
  static forRole(role: Role): DynamicModule {
    return {
      module: WebhooksModule,
      imports: servesApi(role) ? [MessagesModule, ProvidersModule] : [],
      controllers: servesApi(role) ? [WebhooksController] : [],
      providers: servesApi(role) ? [WebhookSignatures, WebhookSignatureGuard] : [],
    };
  }
}
