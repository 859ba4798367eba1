import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, ValidateIf } from 'class-validator';
import { MESSAGE_TYPES, type MessageType } from '../../common/channel';
import { IsPlainText } from '../../common/validation/decorators';
import { MessageContentDto } from './message-content.dto';

/**
 * Body of POST /messages/send, the original service's endpoint: any type, sender in
 * `from` or `from_` (exactly one, or both equal).
 */
export class SendMessageDto extends MessageContentDto {
  @ApiPropertyOptional({ description: 'Sender; give `from` or `from_`.', example: '+11234567890' })
  @ValidateIf((o: SendMessageDto) => o.from !== undefined || o.from_ === undefined)
  @IsString({ message: 'from (or from_) is required and must be a string' })
  @IsPlainText()
  from?: string;

  @ApiPropertyOptional({ description: 'Alias of `from` (Python clients cannot name a field `from`).', example: '+11234567890' })
  @ValidateIf((o: SendMessageDto) => o.from_ !== undefined)
  @IsString()
  @IsPlainText()
  from_?: string;

  @ApiProperty({ enum: MESSAGE_TYPES, example: 'sms' })
  @IsIn(MESSAGE_TYPES)
  type: MessageType;
}
