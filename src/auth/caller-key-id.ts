import { createHash } from 'node:crypto';

/** The caller id of a request while the client API runs open (API_KEYS unset). */
export const ANONYMOUS_CALLER = 'anonymous';

const CALLER_KEY_ID = Symbol('callerKeyId');

type WithCallerKeyId = { [CALLER_KEY_ID]?: string };

/**
 * An opaque, stable identifier of an API key: the first 16 hex digits (64 bits) of its
 * SHA-256 digest. It names the key in rate-limit counters and other per-caller state
 * without revealing the key, and stays the same across restarts and processes.
 */
export function apiKeyId(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
}

/**
 * @param req an HTTP request that passed the ApiKeyGuard
 * @returns the id of the API key the request authenticated with (apiKeyId), or
 *   `anonymous` while the client API runs open, and on public endpoints (health, webhooks)
 */
export function callerKeyId(req: object): string {
  return (req as WithCallerKeyId)[CALLER_KEY_ID] ?? ANONYMOUS_CALLER;
}

/** Records on `req` which key it authenticated with; only the ApiKeyGuard calls this. */
export function setCallerKeyId(req: object, id: string): void {
  (req as WithCallerKeyId)[CALLER_KEY_ID] = id;
}
