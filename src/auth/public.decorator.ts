import { SetMetadata } from '@nestjs/common';

/** Metadata key set by {@link Public}. */
export const IS_PUBLIC = 'auth:isPublic';

/**
 * Marks a controller or handler as open to callers without an API key: the health
 * probes and the providers' webhooks (which prove who they are otherwise). Everything
 * not marked needs `Authorization: Bearer <key>` when API_KEYS is set, and counts
 * against the caller's rate limit.
 */
export const Public = (): ClassDecorator & MethodDecorator => SetMetadata(IS_PUBLIC, true);
