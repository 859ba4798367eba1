import { createHash } from 'crypto';
import canonicalize from 'canonicalize';

/**
 * The idempotency fingerprint of a request (draft-ietf-httpapi-idempotency-key-header,
 * section 2.4: a checksum of the request payload): SHA-256 over the method, the
 * endpoint and the canonical JSON (RFC 8785, JSON Canonicalization Scheme) of the
 * parsed body. So key order, white space and escapes in the JSON do not matter, while
 * any other change of a value, an added or dropped field, or another endpoint does.
 * @param method HTTP method, e.g. `POST` (compared case-insensitively)
 * @param path the endpoint's route, e.g. `/api/messages/sms` (without the query)
 * @param body the parsed JSON body; undefined (no body) counts as null
 * @returns 64 lower-case hex characters
 */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method.toUpperCase()} ${path}\n${canonicalBody(body)}`).digest('hex');
}

/**
 * The RFC 8785 text of a parsed body. JSON.parse reads a number beyond the range of a
 * double (`1e400`) as ±Infinity, which RFC 8785 cannot write (canonicalize throws).
 * Such a body gets a text of its own instead: `non-finite:` (no JSON text starts so)
 * and its JSON with those numbers as `"Infinity"`/`"-Infinity"`, keys in the order
 * sent. No such body passes validation (no field of a send is a number), so its
 * fingerprint is never stored or replayed; it only has to be computed without failing.
 */
function canonicalBody(body: unknown): string {
  try {
    return canonicalize(body === undefined ? null : body) ?? 'null';
  } catch {
    const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value));
    return `non-finite:${text}`;
  }
}
