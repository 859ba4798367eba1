import { CallHandler, createParamDecorator, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { idempotentRequestOf, type IdempotentRequest } from './idempotent-request';

/** What the interceptor read from each request, for the handler's @IdempotencyKey() parameter. */
const readRequests = new WeakMap<Request, IdempotentRequest | undefined>();

/**
 * Reads the `Idempotency-Key` of a request before its body is validated, so that a
 * malformed key is 400 whatever the body (interceptors run before pipes), and keeps the
 * request's scope, key and fingerprint for the handler's @IdempotencyKey() parameter.
 * @throws InvalidIdempotencyKeyError (400) when the header is malformed
 */
@Injectable()
export class IdempotencyKeyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    readRequests.set(req, idempotentRequestOf(req));
    return next.handle();
  }
}

/**
 * Handler parameter: the request's IdempotentRequest, or undefined when it carries no
 * `Idempotency-Key`. Needs IdempotencyKeyInterceptor on the route (ApiIdempotentSend does both).
 */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): IdempotentRequest | undefined =>
  readRequests.get(context.switchToHttp().getRequest<Request>()),
);
