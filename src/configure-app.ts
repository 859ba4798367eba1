import type { INestApplication } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { bodyParsingErrorHandler, jsonBodyParser, requireJsonBody } from './common/http/body-parsing';
import { appConfig } from './config/app.config';
import { servesApi } from './config/roles';

/**
 * Everything main.ts and the e2e tests set up alike on an application created with
 * `{ bodyParser: false }`: JSON body parsing with its limit and problem+json errors,
 * the problem-details filter, and, when the process serves the API (ROLE `all` or
 * `api`), Swagger UI at /docs (/docs-json). Signals are main.ts's business
 * (graceful shutdown), not set up here.
 */
export function configureApp(app: INestApplication): INestApplication {
  const config = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  express.use(requireJsonBody);
  express.use(jsonBodyParser(config.bodyLimit));
  express.use(bodyParsingErrorHandler);
  app.useGlobalFilters(new ProblemDetailsFilter());
  if (!servesApi(config.role)) return app;

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('messaging-service')
      .setDescription(
        'One HTTP API to send and receive SMS, MMS and email through pluggable providers. ' +
          'Sends answer 202 with the queued message; delivery is asynchronous and durable. ' +
          'Errors are application/problem+json (RFC 9457).',
      )
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
