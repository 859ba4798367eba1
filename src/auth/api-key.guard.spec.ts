import { type ExecutionContext, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { UnauthorizedError } from '../common/errors/app-error';
import { Role } from '../config/app.config';
import { bearerToken, ApiKeyGuard } from './api-key.guard';
import { apiKeyId, callerKeyId } from './caller-key-id';
import { Public } from './public.decorator';

class ClientController {
  handler(): void {}
}
@Public()
class OpenController {
  handler(): void {}
}

/** An HTTP ExecutionContext for `controller`'s handler with the given Authorization header. */
function context(authorization: string | undefined, controller: new () => { handler(): void } = ClientController): { ctx: ExecutionContext; req: object } {
  const req = { headers: authorization === undefined ? {} : { authorization } };
  const ctx = {
    getType: () => 'http',
    getHandler: () => controller.prototype.handler,
    getClass: () => controller,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
  return { ctx, req };
}

function guard(apiKeys: string[], role = Role.All): ApiKeyGuard {
  return new ApiKeyGuard(new Reflector(), { apiKeys, role } as never);
}

describe('bearerToken', () => {
  it.each([
    ['Bearer k1', 'k1'],
    ['bearer k1', 'k1'],
    ['BEARER   k1  ', 'k1'],
    ['Bearer a+b/c==', 'a+b/c=='],
  ])('reads %p', (header, token) => expect(bearerToken(header)).toBe(token));

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Basic azE6', 'k1', 'Bearer k1 k2', 'Bearerk1'])('finds no token in %p', (header) => {
    expect(bearerToken(header)).toBeNull();
  });
});

describe('ApiKeyGuard', () => {
  let logs: jest.SpyInstance[];

  beforeEach(() => {
    logs = (['log', 'warn', 'error', 'debug', 'verbose'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined));
  });
  afterEach(() => jest.restoreAllMocks());

  /** Everything logged so far, one string. */
  const logged = (): string => logs.flatMap((spy) => spy.mock.calls.flat().map(String)).join('\n');

  it('lets a valid key through and records its id for callerKeyId', () => {
    const { ctx, req } = context('Bearer k2');
    expect(guard(['k1', 'k2']).canActivate(ctx)).toBe(true);
    expect(callerKeyId(req)).toBe(apiKeyId('k2'));
  });

  it('refuses a missing key with a bare challenge and a wrong one with invalid_token', () => {
    const g = guard(['k1']);
    const missing = (() => {
      try {
        g.canActivate(context(undefined).ctx);
      } catch (e) {
        return e;
      }
    })();
    expect(missing).toBeInstanceOf(UnauthorizedError);
    expect((missing as UnauthorizedError).headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="messaging-service"' });
    const wrong = (() => {
      try {
        g.canActivate(context('Bearer k2').ctx);
      } catch (e) {
        return e;
      }
    })();
    expect(wrong).toBeInstanceOf(UnauthorizedError);
    expect((wrong as UnauthorizedError).headers['WWW-Authenticate']).toMatch(/^Bearer realm="messaging-service", error="invalid_token"/);
    expect((wrong as UnauthorizedError).status).toBe(401);
  });

  it('lets @Public() endpoints through without a key', () => {
    const { ctx, req } = context(undefined, OpenController);
    expect(guard(['k1']).canActivate(ctx)).toBe(true);
    expect(callerKeyId(req)).toBe('anonymous');
  });

  it('lets everything through while no key is configured', () => {
    const { ctx, req } = context(undefined);
    expect(guard([]).canActivate(ctx)).toBe(true);
    expect(callerKeyId(req)).toBe('anonymous');
  });

  it('warns once at start when the API runs open, not with keys, not on a worker', () => {
    guard([]).onModuleInit();
    expect(logs[1]).toHaveBeenCalledTimes(1);
    expect(logs[1].mock.calls[0][0]).toMatch(/API_KEYS is not set/);
    guard(['k1']).onModuleInit();
    guard([], Role.Worker).onModuleInit();
    expect(logs[1]).toHaveBeenCalledTimes(1);
  });

  it('never logs a key, right or wrong', () => {
    const g = guard(['secret-key-1']);
    g.onModuleInit();
    g.canActivate(context('Bearer secret-key-1').ctx);
    expect(() => g.canActivate(context('Bearer wrong-secret-2').ctx)).toThrow(UnauthorizedError);
    expect(logged()).not.toMatch(/secret-key-1|wrong-secret-2/);
  });
});
