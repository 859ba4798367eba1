/** Kinds of message the API carries. */
export const MESSAGE_TYPES = ['sms', 'mms', 'email'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/**
 * Channels group message types by address kind: `sms` (phone numbers, covering SMS
 * and MMS) and `email`. Conversations and providers are per channel.
 */
export const CHANNELS = ['sms', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

/** @returns the channel a message type travels on (`mms` -> `sms`). */
export function channelOf(type: MessageType): Channel {
  return type === 'email' ? 'email' : 'sms';
}
