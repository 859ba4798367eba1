import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IsPlainText } from '../../common/validation/decorators';
import { MessageContentDto } from '../../messages/dto/message-content.dto';

/** Body of POST /api/webhooks/email, as the email provider calls it. Unknown fields are ignored. */
export class InboundEmailDto extends MessageContentDto {
  @ApiProperty({ example: 'Alice Example <alice@example.com>' })
  @IsString()
  @IsPlainText()
  from: string;

  @ApiProperty({ example: 'support@example.com' })
  declare to: string;

  @ApiProperty({ description: "The provider's id of the message; a redelivery with the same id is stored once.", example: 'XL-TEST-0001' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  @IsPlainText()
  xillio_id: string;
}
