import { ApiProperty } from '@nestjs/swagger';
import { CHANNELS, type Channel } from '../../common/channel';
import { OPT_OUT_KEYWORDS } from '../opt-out-keywords';
import { OptOut } from '../opt-out.entity';
import { isoTimestamp } from '../../common/iso-timestamp';

/** An opt-out as the API shows it. */
export class OptOutResponse {
  @ApiProperty({ example: 1 }) id: number;
  @ApiProperty({ enum: CHANNELS, description: 'sms (SMS and MMS alike)', example: 'sms' }) channel: Channel;
  @ApiProperty({ description: 'Our number the recipient opted out of (E.164): sends from it to them are refused.', example: '+12015550100' })
  sender: string;
  @ApiProperty({ description: 'Who opted out (E.164).', example: '+12015550123' }) recipient: string;
  @ApiProperty({ enum: OPT_OUT_KEYWORDS, description: 'The keyword they replied, upper case.', example: 'STOP' }) keyword: string;
  @ApiProperty({ type: Number, nullable: true, description: 'The inbound message that opted them out.', example: 7 })
  message_id: number | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

/** Maps a stored opt-out to its API shape. */
export function toOptOutResponse(o: OptOut): OptOutResponse {
  return {
    id: Number(o.id),
    channel: o.channel,
    sender: o.sender,
    recipient: o.recipient,
    keyword: o.keyword,
    message_id: o.messageId === null ? null : Number(o.messageId),
    created_at: isoTimestamp(o.createdAt),
  };
}
