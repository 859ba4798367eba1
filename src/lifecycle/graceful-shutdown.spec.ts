import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { CLOSE_MARGIN_MS, FORCE_EXIT_AFTER_MS, GracefulShutdown, type HttpDrain, type ProcessLike, type ShutdownTarget } from './graceful-shutdown';

/** A process that records exit codes; signals are emitted by the test. */
class FakeProcess extends EventEmitter implements ProcessLike {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

/** Records the order in which shutdown touched the HTTP server and the application. */
class Recorder implements ShutdownTarget, HttpDrain {
  readonly steps: string[] = [];
  finishClose!: () => void;
  failClose?: Error;

  async close(timeoutMs?: number): Promise<any> {
    if (timeoutMs !== undefined) {
      this.steps.push(`http.close(${timeoutMs})`);
      return { cutOff: 0, ms: 1 };
    }
    this.steps.push('app.close');
    if (this.failClose) throw this.failClose;
    await new Promise<void>((resolve) => (this.finishClose = resolve));
    this.steps.push('app.closed');
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('GracefulShutdown', () => {
  beforeAll(() => {
    for (const level of ['log', 'warn', 'error'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'])('on %s closes HTTP first, then the application, then exits 0', async (signal) => {
    const proc = new FakeProcess();
    const app = new Recorder();
    new GracefulShutdown(2_500, proc).listen().attach(app, app);
    proc.emit(signal, signal);
    await flush();
    expect(app.steps).toEqual(['http.close(2500)', 'app.close']);
    expect(proc.exits).toEqual([]);
    app.finishClose();
    await flush();
    expect(app.steps).toEqual(['http.close(2500)', 'app.close', 'app.closed']);
    expect(proc.exits).toEqual([0]);
  });

  it('holds a signal received during start-up until the application is attached', async () => {
    const proc = new FakeProcess();
    const app = new Recorder();
    const shutdown = new GracefulShutdown(1_000, proc).listen();
    proc.emit('SIGTERM', 'SIGTERM');
    await flush();
    expect(app.steps).toEqual([]);
    shutdown.attach(app, app);
    await flush();
    expect(app.steps).toEqual(['http.close(1000)', 'app.close']);
    app.finishClose();
    await flush();
    expect(proc.exits).toEqual([0]);
  });

  it('ignores the same Ctrl-C arriving twice, and exits 1 at once on a later signal', async () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      const proc = new FakeProcess();
      const app = new Recorder();
      new GracefulShutdown(1_000, proc).listen().attach(app, app);
      proc.emit('SIGINT', 'SIGINT');
      await flush();
      now.mockReturnValue(1_000_000 + FORCE_EXIT_AFTER_MS - 1);
      proc.emit('SIGINT', 'SIGINT'); // from the terminal and from `npm run`
      expect(proc.exits).toEqual([]);
      now.mockReturnValue(1_000_000 + FORCE_EXIT_AFTER_MS);
      proc.emit('SIGINT', 'SIGINT');
      expect(proc.exits).toEqual([1]);
      expect(app.steps).toEqual(['http.close(1000)', 'app.close']);
    } finally {
      now.mockRestore();
    }
  });

  it('exits 1 when closing fails', async () => {
    const proc = new FakeProcess();
    const app = new Recorder();
    app.failClose = new Error('pool end failed');
    new GracefulShutdown(1_000, proc).listen().attach(app, app);
    proc.emit('SIGTERM', 'SIGTERM');
    await flush();
    expect(proc.exits).toEqual([1]);
  });

  it('exits 1 when closing takes longer than the grace period plus the closing margin', async () => {
    jest.useFakeTimers();
    try {
      const proc = new FakeProcess();
      const app = new Recorder();
      new GracefulShutdown(1_000, proc).listen().attach(app, app);
      proc.emit('SIGTERM', 'SIGTERM');
      await Promise.resolve();
      jest.advanceTimersByTime(1_000 + CLOSE_MARGIN_MS - 1);
      expect(proc.exits).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(proc.exits).toEqual([1]);
    } finally {
      jest.useRealTimers();
    }
  });
});
