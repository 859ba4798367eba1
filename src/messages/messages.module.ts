import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConversationsModule } from '../conversations/conversations.module';
import { ProvidersModule } from '../providers/providers.module';
import { QueueModule } from '../queue/queue.module';
import { ConversationMessagesController } from './conversation-messages.controller';
import { DeliveryQueue } from './delivery/delivery.queue';
import { DeliveryService } from './delivery/delivery.service';
import { DeliveryWorker } from './delivery/delivery.worker';
import { Message } from './message.entity';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';

/** Send endpoints, message reads and the delivery worker. */
@Module({
  imports: [TypeOrmModule.forFeature([Message]), ConversationsModule, ProvidersModule, QueueModule],
  controllers: [MessagesController, ConversationMessagesController],
  providers: [MessagesService, DeliveryQueue, DeliveryService, DeliveryWorker],
  exports: [MessagesService],
})
export class MessagesModule {}
