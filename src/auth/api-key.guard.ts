import { CanActivate, ExecutionContext, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { UnauthorizedError } from '../common/errors/app-error';
import { appConfig } from '../config/app.config';
import { servesApi } from '../config/roles';
import { ApiKeySet } from './api-key-set';
import { setCallerKeyId } from './caller-key-id';
import { IS_PUBLIC } from './public.decorator';

/** The protection space named in WWW-Authenticate challenges (RFC 9110, section 11.5). */
const REALM = 'messaging-service';

/**
 * @param header the Authorization header
 * @returns the token of a `Bearer <token>` credential (scheme case-insensitive, RFC 9110
 *   section 11.1), or null when there is none
 */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match ? match[1] : null;
}

/**
 * Guards every HTTP endpoint not marked {@link Public} (installed globally by
 * AuthModule): with API_KEYS set, a request needs `Authorization: Bearer <key>` with one
 * of the keys, else 401 problem+json with a `WWW-Authenticate: Bearer` challenge
 * (RFC 6750, section 3: no error code when credentials are missing, `invalid_token` when
 * the key is wrong). It records the key's id on the request for callerKeyId(). With
 * API_KEYS unset every request passes (callerKeyId: `anonymous`); production refuses to
 * start that way (loadAppConfig). Keys are never logged.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly keys: ApiKeySet;

  constructor(
    private readonly reflector: Reflector,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {
    this.keys = new ApiKeySet(config.apiKeys);
  }

  onModuleInit(): void {
    if (this.keys.open && servesApi(this.config.role)) {
      this.logger.warn('API_KEYS is not set: the client API is open to anyone who can reach it. Set API_KEYS for anything but local development.');
    }
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    if (this.keys.open) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const token = bearerToken(req.headers.authorization);
    if (token === null) {
      throw new UnauthorizedError('This endpoint needs an API key: send Authorization: Bearer <key>.', `Bearer realm="${REALM}"`);
    }
    const id = this.keys.match(token);
    if (id === null) {
      throw new UnauthorizedError(
        'The API key is not valid.',
        `Bearer realm="${REALM}", error="invalid_token", error_description="The API key is not valid"`,
      );
    }
    setCallerKeyId(req, id);
    return true;
  }
}
