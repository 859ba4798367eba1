import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Role } from '../config/app.config';
import { servesApi } from '../config/roles';
import { Conversation } from './conversation.entity';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';

/**
 * Conversation grouping (race-free find-or-create) for every role. The application
 * imports `ConversationsModule.forRole(role)`, which adds the read endpoints.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Conversation])],
  providers: [ConversationsService],
  exports: [ConversationsService],
})
export class ConversationsModule {
  /** ConversationsModule plus, when `role` serves the API (`all`, `api`), the conversation read endpoints. */
  static forRole(role: Role): DynamicModule {
    return {
      module: ConversationsRoleModule,
      imports: [ConversationsModule],
      controllers: servesApi(role) ? [ConversationsController] : [],
    };
  }
}

/** Holds what ConversationsModule.forRole adds, so that ConversationsModule stays one module whoever imports it. */
@Module({})
class ConversationsRoleModule {}
