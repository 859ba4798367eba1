import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString } from 'class-validator';
import { IsPlainText } from '../../common/validation/decorators';
import { MessageContentDto } from './message-content.dto';

/** Body of POST /api/messages/sms. */
export class SendSmsDto extends MessageContentDto {
  @ApiProperty({ description: 'Sender phone number; E.164 preferred, national numbers read in DEFAULT_REGION.', example: '+12015550100' })
  @IsString()
  @IsPlainText()
  from: string;

  @ApiProperty({ enum: ['sms', 'mms'], example: 'sms' })
  @IsIn(['sms', 'mms'])
  type: 'sms' | 'mms';
}
