import { createHash, timingSafeEqual } from 'node:crypto';
import { apiKeyId } from './caller-key-id';

/** SHA-256 of `value`: 32 bytes, whatever the length of `value`. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The configured client API keys (API_KEYS), held as SHA-256 digests. A presented key
 * is digested too and compared with every configured digest by crypto.timingSafeEqual:
 * the digests all have the same length and every comparison runs, so the time taken
 * reveals neither how much of a key matched, nor its length, nor which key matched.
 */
export class ApiKeySet {
  private readonly keys: ReadonlyArray<{ digest: Buffer; id: string }>;

  /** @param keys the keys as configured (already trimmed, none empty) */
  constructor(keys: readonly string[]) {
    this.keys = keys.map((key) => ({ digest: digest(key), id: apiKeyId(key) }));
  }

  /** True when no key is configured: the client API runs open. */
  get open(): boolean {
    return this.keys.length === 0;
  }

  /**
   * @param presented the token of an `Authorization: Bearer` header
   * @returns the id (apiKeyId) of the configured key it equals, or null
   */
  match(presented: string): string | null {
    const candidate = digest(presented);
    let matched: string | null = null;
    for (const key of this.keys) {
      if (timingSafeEqual(candidate, key.digest)) matched = key.id;
    }
    return matched;
  }
}
