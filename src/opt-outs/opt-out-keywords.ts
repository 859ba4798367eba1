/**
 * Replies that opt a recipient out of messages from the number they reply to: the
 * default opt-out keywords of Twilio Programmable Messaging ("Twilio support for opt-out
 * keywords (SMS STOP filtering)", https://help.twilio.com/articles/223134027): the
 * industry-standard set of the CTIA Messaging Principles and Best Practices (STOP,
 * STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT), plus REVOKE and OPTOUT, which Twilio added
 * on 14 May 2025 for the FCC's consent-revocation rule of February 2024
 * (https://www.twilio.com/en-us/blog/update-to-fcc-s-sms-opt-out-keywords). Twilio
 * answers a send to such a recipient with error 21610.
 */
export const OPT_OUT_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'] as const;

/** Replies that opt a recipient back in (Twilio's default opt-in keywords, same source). */
export const OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;

export type OptOutKeyword = (typeof OPT_OUT_KEYWORDS)[number];
export type OptInKeyword = (typeof OPT_IN_KEYWORDS)[number];

/** What an inbound message's body asks for: to opt out or back in, with the keyword (upper case). */
export type KeywordAction = { action: 'opt_out'; keyword: OptOutKeyword } | { action: 'opt_in'; keyword: OptInKeyword };

const OPT_OUTS: ReadonlySet<string> = new Set(OPT_OUT_KEYWORDS);
const OPT_INS: ReadonlySet<string> = new Set(OPT_IN_KEYWORDS);

/**
 * Reads an inbound SMS/MMS body as an opt-out or opt-in keyword. Only a body that is
 * the keyword alone counts, in any case and with any whitespace around it (as Twilio:
 * "STOP PLEASE" or "stop." opt nobody out). Only ASCII letters match, so look-alikes
 * that upper-case to ASCII (the dotless ı, the long ſ) do not.
 * @param body the message body as received
 * @returns the action and the keyword in upper case, or null when the body is no keyword
 */
export function keywordActionOf(body: string): KeywordAction | null {
  const word = body.trim();
  if (!/^[A-Za-z]{2,11}$/.test(word)) return null;
  const keyword = word.toUpperCase();
  if (OPT_OUTS.has(keyword)) return { action: 'opt_out', keyword: keyword as OptOutKeyword };
  if (OPT_INS.has(keyword)) return { action: 'opt_in', keyword: keyword as OptInKeyword };
  return null;
}
