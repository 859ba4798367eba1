import { Logger } from '@nestjs/common';
import type { HttpDrainResult } from './http-server-drain';

/** Signals that shut the service down gracefully. */
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Extra time, beyond the grace period, that closing pg-boss, the TypeORM pool, the mock
 * providers and the embedded PostgreSQL may take before the process gives up and exits 1.
 */
export const CLOSE_MARGIN_MS = 10_000;

/**
 * A further signal this long after the first exits at once; earlier ones are the same
 * Ctrl-C arriving twice (the terminal signals the whole process group, and `npm run`
 * forwards the SIGINT it got to the service as well) and are ignored.
 */
export const FORCE_EXIT_AFTER_MS = 1_000;

/** What the shutdown needs of the application. */
export interface ShutdownTarget {
  /** Nest's app.close(): the shutdown hooks in their phases (see run()). */
  close(): Promise<void>;
}

/** What the shutdown needs of the HTTP server (HttpServerDrain). */
export interface HttpDrain {
  close(timeoutMs: number): Promise<HttpDrainResult>;
}

/** Where signals come from and how the process ends; `process` by default, fakes in unit specs. */
export interface ProcessLike {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

/**
 * SIGTERM, SIGINT (Ctrl-C) and SIGHUP shut the service down gracefully, within
 * SHUTDOWN_GRACE_MS:
 *
 * 1. the HTTP server stops accepting connections; requests under way finish (their
 *    answers close the connection), idle keep-alive connections are closed;
 * 2. app.close() runs Nest's shutdown phases. beforeApplicationShutdown: the queue
 *    workers fetch no new job and the running deliveries finish (JobQueue.stopWorkers;
 *    those still running at the end of the grace period are abandoned: their jobs stay
 *    active and run again once they expire), waiting `Prefer: wait` requests are
 *    answered. Then Nest closes the HTTP server (connections still busy at the end of
 *    the grace period are destroyed). onApplicationShutdown: pg-boss, the mock
 *    providers, the TypeORM pool and last the embedded PostgreSQL are closed;
 * 3. the process exits 0, or 1 when closing failed or took longer than the grace
 *    period plus CLOSE_MARGIN_MS.
 *
 * Another signal FORCE_EXIT_AFTER_MS or more after the first exits at once (1). A
 * signal during start-up is held until attach(), then handled.
 */
export class GracefulShutdown {
  private readonly logger = new Logger('Shutdown');
  private signal?: NodeJS.Signals;
  private signalledAt = 0;
  private target?: { app: ShutdownTarget; http: HttpDrain };
  private running = false;

  constructor(
    private readonly graceMs: number,
    private readonly proc: ProcessLike = process,
  ) {}

  /** Starts listening to SHUTDOWN_SIGNALS; call it before anything else starts. */
  listen(): this {
    for (const signal of SHUTDOWN_SIGNALS) this.proc.on(signal, (received) => this.onSignal(received ?? signal));
    return this;
  }

  /** The application is up: a signal from now on (or one held during start-up) shuts it down. */
  attach(app: ShutdownTarget, http: HttpDrain): void {
    this.target = { app, http };
    if (this.signal) void this.run(this.signal);
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.signal) {
      if (Date.now() - this.signalledAt < FORCE_EXIT_AFTER_MS) return;
      this.logger.warn(`${signal} received again during shutdown: exiting now`);
      this.proc.exit(1);
      return;
    }
    this.signal = signal;
    this.signalledAt = Date.now();
    if (this.target) void this.run(signal);
    else this.logger.log(`${signal} received during start-up: shutting down once started`);
  }

  private async run(signal: NodeJS.Signals): Promise<void> {
    if (this.running || !this.target) return;
    this.running = true;
    const { app, http } = this.target;
    const started = Date.now();
    this.logger.log(`${signal} received: shutting down (grace period ${this.graceMs} ms)`);
    const watchdog = setTimeout(() => {
      this.logger.error(`Shutdown did not finish within ${this.graceMs + CLOSE_MARGIN_MS} ms: exiting`);
      this.proc.exit(1);
    }, this.graceMs + CLOSE_MARGIN_MS);
    watchdog.unref?.();
    try {
      const httpClosed = http.close(this.graceMs);
      await app.close();
      const { cutOff, ms } = await httpClosed;
      this.logger.log(`HTTP server closed ${ms} ms after the signal${cutOff ? `; ${cutOff} request(s) still running were cut off` : ''}`);
      this.logger.log(`Shut down in ${Date.now() - started} ms`);
      clearTimeout(watchdog);
      this.proc.exit(0);
    } catch (error) {
      clearTimeout(watchdog);
      this.logger.error(`Shutdown failed: ${(error as Error).stack ?? String(error)}`);
      this.proc.exit(1);
    }
  }
}
