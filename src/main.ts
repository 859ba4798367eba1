import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { AppModule } from './app.module';
import { loadAppConfig } from './config/app.config';
import { servesApi } from './config/roles';
import { configureApp } from './configure-app';
import { GracefulShutdown } from './lifecycle/graceful-shutdown';
import { applyHeapGrowingPercent } from './lifecycle/heap-growth';
import { disableAllocationSitePretenuring } from './lifecycle/pretenuring';
import { HttpServerDrain } from './lifecycle/http-server-drain';

/**
 * Starts the parts of the service that ROLE names (all, api, worker) and shuts them
 * down gracefully on SIGTERM, SIGINT or SIGHUP (see GracefulShutdown).
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let config: ReturnType<typeof loadAppConfig>;
  try {
    config = loadAppConfig();
  } catch (error) {
    logger.error((error as Error).message);
    process.exit(1);
  }
  applyHeapGrowingPercent(config.heapGrowingPercent);
  disableAllocationSitePretenuring();
  // Listen to signals before anything starts (the embedded PostgreSQL, migrations).
  const shutdown = new GracefulShutdown(config.shutdownGraceMs).listen();
  const app = await NestFactory.create(AppModule.forRole(config.role), { bodyParser: false });
  configureApp(app);
  const http = new HttpServerDrain(app.getHttpServer() as Server);
  await app.listen(config.port);
  const serves = servesApi(config.role) ? 'API, webhooks and health (docs: /docs)' : 'health only';
  logger.log(`messaging-service (ROLE=${config.role}) listening on http://localhost:${config.port}: ${serves}`);
  shutdown.attach(app, http);
}

bootstrap().catch((error: Error) => {
  // E.g. PORT in use. An embedded PostgreSQL this process started is stopped on exit.
  new Logger('Bootstrap').error(`Start-up failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
