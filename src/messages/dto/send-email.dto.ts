import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { IsPlainText } from '../../common/validation/decorators';
import { MessageContentDto } from './message-content.dto';

/** Body of POST /api/messages/email. */
export class SendEmailDto extends MessageContentDto {
  @ApiProperty({ description: 'Sender email address (a display name and mailto: are accepted).', example: 'team@example.com' })
  @IsString()
  @IsPlainText()
  from: string;

  @ApiProperty({ description: 'Recipient email address.', example: 'ann@example.com' })
  declare to: string;
}
