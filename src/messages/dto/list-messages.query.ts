import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, registerDecorator, ValidationOptions } from 'class-validator';
import { MESSAGE_TYPES, type MessageType } from '../../common/channel';
import { PageQueryDto } from '../../common/http/pagination';
import { MESSAGE_DIRECTIONS, MESSAGE_STATUSES, type MessageDirection, type MessageStatus } from '../message.entity';

/** A positive integer id written in decimal digits, below 2^53 (ids are JSON numbers). */
function IsIdString(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isIdString',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && /^\d{1,16}$/.test(value) && Number(value) >= 1 && Number.isSafeInteger(Number(value)),
        defaultMessage: () => 'must be a positive integer id',
      },
    });
}

/** Query of GET /api/messages: optional filters (all must match) and the page. */
export class ListMessagesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: MESSAGE_STATUSES, description: 'Only messages in this status, e.g. `failed` for the dead letters.' })
  @IsOptional()
  @IsIn(MESSAGE_STATUSES, { message: `must be one of ${MESSAGE_STATUSES.join(', ')}` })
  status?: MessageStatus;

  @ApiPropertyOptional({ type: Number, minimum: 1, description: 'Only messages of this conversation (an unknown id lists nothing).', example: 1 })
  @IsOptional()
  @IsIdString()
  conversation_id?: string;

  @ApiPropertyOptional({ enum: MESSAGE_TYPES, description: 'Only messages of this type.' })
  @IsOptional()
  @IsIn(MESSAGE_TYPES, { message: `must be one of ${MESSAGE_TYPES.join(', ')}` })
  type?: MessageType;

  @ApiPropertyOptional({ enum: MESSAGE_DIRECTIONS, description: 'Only outbound (sent by clients) or inbound (from webhooks) messages.' })
  @IsOptional()
  @IsIn(MESSAGE_DIRECTIONS, { message: `must be one of ${MESSAGE_DIRECTIONS.join(', ')}` })
  direction?: MessageDirection;
}
