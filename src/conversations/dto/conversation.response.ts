import { ApiProperty } from '@nestjs/swagger';
import { CHANNELS, type Channel } from '../../common/channel';
import { Conversation } from '../conversation.entity';
import { isoTimestamp } from '../../common/iso-timestamp';

/** A conversation as the API shows it. */
export class ConversationResponse {
  @ApiProperty({ example: 1 }) id: number;
  @ApiProperty({ enum: CHANNELS, description: 'sms (phone numbers: SMS and MMS) or email' }) channel: Channel;
  @ApiProperty({ type: [String], example: ['+12015550100', '+12015550123'], description: 'The two normalised addresses, sorted.' })
  participants: string[];
  @ApiProperty({ example: 2 }) message_count: number;
  @ApiProperty({ format: 'date-time', description: 'When the service stored the latest message.' }) last_message_at: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

/** Maps a stored conversation to its API shape. */
export function toConversationResponse(c: Conversation): ConversationResponse {
  return {
    id: Number(c.id),
    channel: c.channel,
    participants: c.participants,
    message_count: c.messageCount,
    last_message_at: isoTimestamp(c.lastMessageAt),
    created_at: isoTimestamp(c.createdAt),
  };
}
