/**
 * Standalone mock provider (`npm run start:mock`).
 *
 * Listens on 0.0.0.0:`MOCK_PROVIDER_PORT` (default 8001) with the behaviour read from
 * `MOCK_PROVIDER_LATENCY_MS`, `MOCK_PROVIDER_ERROR_RATE`, `MOCK_PROVIDER_429_RATE` and
 * `MOCK_PROVIDER_RETRY_AFTER_S`; stops cleanly on SIGINT / SIGTERM. Exits 1 on bad
 * configuration or when the port cannot be bound.
 */
import { MockProviderServer, mockProviderOptionsFromEnv } from './mock-provider.server';

/** Parses `MOCK_PROVIDER_PORT` (integer 0..65535, default 8001). */
function portFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.MOCK_PROVIDER_PORT;
  if (raw === undefined || raw.trim() === '') return 8001;
  const port = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`MOCK_PROVIDER_PORT must be a port number (0..65535), got ${JSON.stringify(raw)}`);
  }
  return port;
}

async function main(): Promise<void> {
  const port = portFromEnv(process.env);
  const options = mockProviderOptionsFromEnv(process.env);
  const server = new MockProviderServer(options);
  const bound = await server.start(port, '0.0.0.0');
  console.log(
    `Mock providers listening on ${server.url} (bound 0.0.0.0:${bound}; latency ${options.latencyMs} ms, ` +
      `error rate ${options.errorRate}, 429 rate ${options.rate429}, Retry-After ${options.retryAfterSeconds} s)`,
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(1); // second signal: give up waiting
    }
    stopping = true;
    console.log(`Mock providers stopping (${signal})`);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('Mock providers failed to stop:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(`Mock providers failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
