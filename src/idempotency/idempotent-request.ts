import type { Request } from 'express';
import { parseIdempotencyKeyHeader } from './idempotency-key-header';
import { requestFingerprint } from './idempotency-fingerprint';
import { callerKeyId } from '../auth/caller-key-id';

/** A request that carries an `Idempotency-Key`: whose key, the key, and what the request is. */
export interface IdempotentRequest {
  /** callerKeyId(): the caller's API key id, `anonymous` while the client API runs open. */
  scope: string;
  /** The client's key. */
  key: string;
  /** requestFingerprint(): method, endpoint and canonical body. */
  fingerprint: string;
}

/** An answer as it is stored for replay: status and JSON body. */
export interface StoredAnswer {
  status: number;
  body: unknown;
}

/**
 * @param req an Express request whose JSON body is parsed and whose route matched
 * @returns the request's scope, key and fingerprint, or undefined when it has no `Idempotency-Key`
 * @throws InvalidIdempotencyKeyError when the header is malformed (parseIdempotencyKeyHeader)
 */
export function idempotentRequestOf(req: Request): IdempotentRequest | undefined {
  // headersDistinct copies every header of the request into arrays: only for a request that has the header.
  if (req.headers['idempotency-key'] === undefined) return undefined;
  const key = parseIdempotencyKeyHeader(req.headersDistinct['idempotency-key']);
  if (key === undefined) return undefined;
  // The route as registered, so `/API/messages/sms/` and `/api/messages/sms` are one endpoint.
  const path = `${req.baseUrl ?? ''}${(req.route as { path?: string } | undefined)?.path ?? req.path}`;
  return { scope: callerKeyId(req), key, fingerprint: requestFingerprint(req.method, path, req.body) };
}
