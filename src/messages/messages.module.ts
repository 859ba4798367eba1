import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Role } from '../config/app.config';
import { runsWorker, servesApi } from '../config/roles';
import { ConversationsModule } from '../conversations/conversations.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OptOutsModule } from '../opt-outs/opt-outs.module';
import { ProvidersModule } from '../providers/providers.module';
import { QueueModule } from '../queue/queue.module';
import { ConversationMessagesController } from './conversation-messages.controller';
import { DeliveryQueue } from './delivery/delivery.queue';
import { DeliveryService } from './delivery/delivery.service';
import { DeliveryWorker } from './delivery/delivery.worker';
import { DeliveryReceiptsService } from './delivery-receipts.service';
import { Message } from './message.entity';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';

/**
 * Messages as every role needs them: MessagesService (store, read, enqueue) and
 * delivery (DeliveryQueue, DeliveryService). Import this module to use them; the
 * application imports `MessagesModule.forRole(role)`, which adds endpoints and worker.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Message]), ConversationsModule, IdempotencyModule, OptOutsModule, ProvidersModule, QueueModule],
  providers: [MessagesService, DeliveryReceiptsService, DeliveryQueue, DeliveryService],
  exports: [MessagesService, DeliveryReceiptsService, DeliveryQueue, DeliveryService],
})
export class MessagesModule {
  /**
   * MessagesModule with what a process of `role` runs on top: the send and read
   * endpoints when it serves the API (`all`, `api`), the delivery worker when it works
   * the queue (`all`, `worker`).
   */
  static forRole(role: Role): DynamicModule {
    return {
      module: MessagesRoleModule,
      imports: [MessagesModule],
      controllers: servesApi(role) ? [MessagesController, ConversationMessagesController] : [],
      providers: runsWorker(role) ? [DeliveryWorker] : [],
    };
  }
}

/**
 * Holds what MessagesModule.forRole adds, so that MessagesModule stays one module
 * (one MessagesService) whoever imports it.
 */
@Module({})
class MessagesRoleModule {}
