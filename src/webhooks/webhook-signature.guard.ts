import { CanActivate, ExecutionContext, Injectable, type RawBodyRequest } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Channel } from '../common/channel';
import { publicUrlOf } from '../common/http/public-url';
import { WEBHOOK_CHANNELS } from './webhook-channels.decorator';
import { WebhookSignatureError } from './webhook-signature.error';
import { WebhookSignatures } from './webhook-signatures.service';

/**
 * Lets a webhook request through only when the provider(s) of the endpoint's channels
 * (@WebhookChannels) accept its signature over the raw body (req.rawBody, kept by the
 * JSON body parser for /api/webhooks/*). Guards run before pipes, so the signature is
 * checked before the body is validated or anything is stored.
 * @throws WebhookSignatureError (401) when the signature is missing or wrong
 */
@Injectable()
export class WebhookSignatureGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly signatures: WebhookSignatures,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const channels = this.reflector.getAllAndOverride<Channel[] | undefined>(WEBHOOK_CHANNELS, [context.getHandler(), context.getClass()]);
    if (!channels?.length) throw new Error('WebhookSignatureGuard needs @WebhookChannels(...) on the endpoint');
    const req = context.switchToHttp().getRequest<RawBodyRequest<Request>>();
    const verdict = this.signatures.verify(channels, {
      rawBody: req.rawBody ?? Buffer.alloc(0),
      headers: req.headers,
      url: publicUrlOf(req),
      receivedAt: new Date(),
    });
    if (!verdict.valid) throw new WebhookSignatureError(verdict.reason);
    return true;
  }
}
