import type { INestApplication } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { BEARER_SCHEME } from './auth/api-client-auth.decorator';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { bodyParsingErrorHandler, jsonBodyParser, rejectOversizedBody, requireJsonBody } from './common/http/body-parsing';
import { appConfig } from './config/app.config';
import { servesApi } from './config/roles';

/** Paths whose raw body is kept (req.rawBody) for signature checks: the providers' webhooks (any case, as Express routes them). */
const WEBHOOK_PATHS = /^\/api\/webhooks(\/|$)/i;

/**
 * Security header fields (helmet's defaults) on every answer, with a Content Security
 * Policy Swagger UI works under: its page loads only its own scripts and styles from
 * /docs (script-src 'self'), with inline styles and data: images, which the defaults
 * allow. `upgrade-insecure-requests` is left out: the service is often reached over
 * plain HTTP (locally, or behind a proxy that terminates TLS), where it would make a
 * browser fetch the UI's files over HTTPS and fail.
 */
export const securityHeaders = () =>
  helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });

/**
 * Everything main.ts and the e2e tests set up alike on an application created with
 * `{ bodyParser: false }`: Express's `trust proxy` (TRUST_PROXY), security header fields
 * (helmet), JSON body parsing with its limit (a Content-Length over it is refused before
 * the body is read) and problem+json errors (webhooks keep their raw body for
 * signatures), the problem-details filter, and, when the process serves the API (ROLE
 * `all` or `api`) and DOCS_ENABLED is true, Swagger UI at /docs (/docs-json). Signals
 * are main.ts's business (graceful shutdown), not set up here.
 */
export function configureApp(app: INestApplication): INestApplication {
  const config = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  express.set('trust proxy', config.trustProxy);
  express.use(securityHeaders());
  express.use(rejectOversizedBody(config.bodyLimit));
  express.use(requireJsonBody);
  express.use(jsonBodyParser(config.bodyLimit, { keepRawBody: (req) => WEBHOOK_PATHS.test(req.path) }));
  express.use(bodyParsingErrorHandler);
  app.useGlobalFilters(new ProblemDetailsFilter());
  if (!servesApi(config.role) || !config.docsEnabled) return app;

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('messaging-service')
      .setDescription(
        'One HTTP API to send and receive SMS, MMS and email through pluggable providers. ' +
          'Sends answer 202 with the queued message; delivery is asynchronous and durable. ' +
          'Errors are application/problem+json (RFC 9457).\n\n' +
          'Client endpoints need `Authorization: Bearer <API key>` when the service runs with API_KEYS (401 otherwise); ' +
          'the webhooks and /health do not. Client endpoints are rate-limited per API key: every answer carries ' +
          '`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy` ' +
          '(draft-ietf-httpapi-ratelimit-headers-06); over the limit the answer is 429 with `Retry-After`.',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'One of the API_KEYS of the service' }, BEARER_SCHEME)
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
