import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { IsPlainText, IsAttachmentUrls, IsOptionalNotNull, IsZonedTimestamp, MAX_ATTACHMENTS } from '../../common/validation/decorators';

/**
 * Fields every message request carries, client send or provider webhook. Type rules
 * that depend on the message type (body length, attachment counts) are checked by
 * MessagesService.
 */
export class MessageContentDto {
  @ApiProperty({ description: 'Recipient: a phone number (sms/mms) or an email address (email).', example: '+12015550123' })
  @IsString()
  @IsPlainText()
  to: string;

  @ApiProperty({
    description:
      'Text (SMS/MMS: up to 1,600 characters, counted as Unicode code points, so an emoji counts one; the message shows ' +
      'the SMS segments it takes in `segments`) or email body, text or HTML (up to 1 MB).',
    example: 'Hello from messaging-service',
  })
  @IsString()
  @IsPlainText()
  body: string;

  @ApiPropertyOptional({
    description: `http(s) URLs of attachments: none for sms, 1..${MAX_ATTACHMENTS} for mms, up to ${MAX_ATTACHMENTS} for email. null means none.`,
    type: [String],
    nullable: true,
    example: [],
  })
  @IsOptional()
  @IsAttachmentUrls()
  attachments?: string[] | null;

  @ApiPropertyOptional({
    description: "The sender's time: ISO 8601 with a zone (Z or an offset). Absent means now.",
    example: '2025-05-21T18:00:00Z',
    format: 'date-time',
  })
  @IsOptionalNotNull()
  @IsZonedTimestamp()
  timestamp?: string;
}
