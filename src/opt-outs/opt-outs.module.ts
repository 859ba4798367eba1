import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Role } from '../config/app.config';
import { servesApi } from '../config/roles';
import { OptOut } from './opt-out.entity';
import { OptOutsController } from './opt-outs.controller';
import { OptOutsService } from './opt-outs.service';

/**
 * Opt-outs (STOP replies) for every role that stores messages: MessagesService asks
 * OptOutsService before it stores a send and hands it every inbound reply. The
 * application imports `OptOutsModule.forRole(role)`, which adds the list endpoint.
 */
@Module({
  imports: [TypeOrmModule.forFeature([OptOut])],
  providers: [OptOutsService],
  exports: [OptOutsService],
})
export class OptOutsModule {
  /** OptOutsModule plus, when `role` serves the API (`all`, `api`), GET /api/opt-outs. */
  static forRole(role: Role): DynamicModule {
    return {
      module: OptOutsRoleModule,
      imports: [OptOutsModule],
      controllers: servesApi(role) ? [OptOutsController] : [],
    };
  }
}

/** Holds what OptOutsModule.forRole adds, so that OptOutsModule stays one module whoever imports it. */
@Module({})
class OptOutsRoleModule {}
