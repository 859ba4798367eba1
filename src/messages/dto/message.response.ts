import { ApiProperty } from '@nestjs/swagger';
import { MESSAGE_TYPES, type MessageType } from '../../common/channel';
import {
  Message,
  MESSAGE_DIRECTIONS,
  MESSAGE_STATUSES,
  type MessageDirection,
  type MessageError,
  type MessageStatus,
} from '../message.entity';
import { SMS_ENCODINGS, type SmsEncoding } from '../sms-segments';
import { isoTimestamp } from '../../common/iso-timestamp';

class MessageErrorResponse {
  @ApiProperty({ example: 'provider_rejected' }) code: string;
  @ApiProperty({ example: 'invalid recipient' }) message: string;
}

/** A message as the API shows it. Ids are JSON numbers (bigint, exact below 2^53). */
export class MessageResponse {
  @ApiProperty({ example: 1 }) id: number;
  @ApiProperty({ example: 1 }) conversation_id: number;
  @ApiProperty({ enum: MESSAGE_TYPES }) type: MessageType;
  @ApiProperty({ enum: MESSAGE_DIRECTIONS }) direction: MessageDirection;
  @ApiProperty({ enum: MESSAGE_STATUSES }) status: MessageStatus;
  @ApiProperty({ example: '+12015550100' }) from: string;
  @ApiProperty({ example: '+12015550123' }) to: string;
  @ApiProperty({ example: 'Hello' }) body: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 1,
    example: 1,
    description:
      'SMS segments (parts) the body takes; null for email. GSM-7 bodies: 160 septets in one segment, 153 per segment ' +
      'when longer (an extension character such as € [ ] { } ^ ~ | \\ takes two); UCS-2 bodies (any character outside GSM-7, ' +
      'e.g. an emoji): 70 UTF-16 units in one segment, 67 per segment when longer (an emoji takes two). A character is never ' +
      'split between segments. For mms: what the text would take as SMS (an MMS is sent and billed as one message); ' +
      'an mms without text counts 1.',
  })
  segments: number | null;
  @ApiProperty({
    enum: SMS_ENCODINGS,
    nullable: true,
    example: 'GSM-7',
    description: 'The SMS encoding `segments` counts in: GSM-7 when every character is in the GSM 7-bit alphabet or its extension table, else UCS-2; null for email.',
  })
  encoding: SmsEncoding | null;
  @ApiProperty({ type: [String], example: [] }) attachments: string[];
  @ApiProperty({ format: 'date-time' }) timestamp: string;
  @ApiProperty({ example: 'mock-sms' }) provider: string;
  @ApiProperty({ type: String, nullable: true, example: null }) provider_message_id: string | null;
  @ApiProperty({ example: 0 }) attempts: number;
  @ApiProperty({ type: MessageErrorResponse, nullable: true }) error: MessageError | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) sent_at: string | null;
}

/** The properties of a stored message that its API shape shows (toMessageResponse): what message lists read. */
export const MESSAGE_RESPONSE_PROPERTIES = [
  'conversationId', 'type', 'direction', 'status', 'from', 'to', 'body', 'segments', 'encoding', 'attachments',
  'timestamp', 'provider', 'providerMessageId', 'attempts', 'error', 'createdAt', 'updatedAt', 'sentAt',
] as const satisfies readonly (keyof Message)[];

/** A stored message with at least what its API shape shows. */
export type MessageResponseSource = Pick<Message, 'id' | (typeof MESSAGE_RESPONSE_PROPERTIES)[number]>;

/** Maps a stored message to its API shape. */
export function toMessageResponse(m: MessageResponseSource): MessageResponse {
  return {
    id: Number(m.id),
    conversation_id: Number(m.conversationId),
    type: m.type,
    direction: m.direction,
    status: m.status,
    from: m.from,
    to: m.to,
    body: m.body,
    segments: m.segments,
    encoding: m.encoding,
    attachments: m.attachments ?? [],
    timestamp: isoTimestamp(m.timestamp),
    provider: m.provider,
    provider_message_id: m.providerMessageId,
    attempts: m.attempts,
    error: m.error,
    created_at: isoTimestamp(m.createdAt),
    updated_at: isoTimestamp(m.updatedAt),
    sent_at: m.sentAt ? isoTimestamp(m.sentAt) : null,
  };
}
