import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IsPlainText } from '../../common/validation/decorators';
import { MessageContentDto } from '../../messages/dto/message-content.dto';

/** Body of POST /api/webhooks/sms, as the SMS provider calls it. Unknown fields are ignored. */
export class InboundSmsDto extends MessageContentDto {
  @ApiProperty({ example: '+12015550123' })
  @IsString()
  @IsPlainText()
  from: string;

  @ApiProperty({ example: '+12015550100' })
  declare to: string;

  @ApiProperty({ enum: ['sms', 'mms'], example: 'sms' })
  @IsIn(['sms', 'mms'])
  type: 'sms' | 'mms';

  @ApiProperty({ description: "The provider's id of the message; a redelivery with the same id is stored once.", example: 'SM-TEST-0001' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  @IsPlainText()
  messaging_provider_id: string;
}
