import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** How closing the HTTP server went. */
export interface HttpDrainResult {
  /** Requests still unanswered at the deadline, whose connections were destroyed. */
  cutOff: number;
  /** Milliseconds from close() until the server had closed. */
  ms: number;
}

/**
 * Closes an HTTP server gracefully. Node's `server.close()` stops accepting
 * connections and closes the idle keep-alive ones, but a connection that is busy at
 * that moment stays open after its answer (Node still answers `Connection:
 * keep-alive`) until the client or the keep-alive timeout closes it. Here every
 * answer from then on carries `Connection: close`, each connection is closed as soon
 * as it is idle, and connections still busy at the deadline are destroyed.
 *
 * Create it before the server serves its first request: it follows every request
 * from then on.
 */
export class HttpServerDrain {
  private readonly unanswered = new Set<ServerResponse>();
  private draining = false;
  private closing?: Promise<HttpDrainResult>;

  constructor(private readonly server: Server) {
    // Before the application's own listener, so that it is in place before any answer.
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (this.draining) res.shouldKeepAlive = false;
      this.unanswered.add(res);
      res.once('close', () => {
        this.unanswered.delete(res);
        if (this.draining) this.server.closeIdleConnections();
      });
    });
  }

  /** Requests being answered right now. */
  get inFlight(): number {
    return this.unanswered.size;
  }

  /**
   * Stops accepting connections and lets the requests under way finish within
   * `timeoutMs`; then destroys the connections left. Calling it again returns the
   * first call's result.
   * @returns once the server has closed
   */
  close(timeoutMs: number): Promise<HttpDrainResult> {
    this.closing ??= this.drain(timeoutMs);
    return this.closing;
  }

  private async drain(timeoutMs: number): Promise<HttpDrainResult> {
    const started = Date.now();
    this.draining = true;
    for (const res of this.unanswered) if (!res.headersSent) res.shouldKeepAlive = false;
    let cutOff = 0;
    const deadline = setTimeout(() => {
      cutOff = this.unanswered.size;
      this.server.closeAllConnections();
    }, Math.max(0, timeoutMs));
    try {
      await new Promise<void>((resolve) => {
        // The callback gets ERR_SERVER_NOT_RUNNING when the server was not listening; closed either way.
        this.server.close(() => resolve());
        this.server.closeIdleConnections();
      });
    } finally {
      clearTimeout(deadline);
    }
    return { cutOff, ms: Date.now() - started };
  }
}
