import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { WebhooksController } from './webhooks.controller';

/** Inbound webhooks of the providers. */
@Module({
  imports: [MessagesModule],
  controllers: [WebhooksController],
})
export class WebhooksModule {}
