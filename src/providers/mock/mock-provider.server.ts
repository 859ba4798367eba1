import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express, {
  type Express,
  type NextFunction,
  type Request,
  type Response,
} from 'express';

/** Webhook signing of the mock providers (see mock-webhook.signature.ts), for whoever plays the provider's side. */
export { signWebhook, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './mock-webhook.signature';

/**
 * Behaviour knobs of the mock provider server. Every field is optional.
 */
export interface MockProviderOptions {
  /** Delay in milliseconds before each send request (`POST /sms`, `POST /email`) is answered. Default 0. */
  latencyMs?: number;
  /** Probability (0..1) that a send request is answered 503 `unavailable`. Default 0. */
  errorRate?: number;
  /** Probability (0..1) that a send request not answered 503 is answered 429. Default 0. */
  rate429?: number;
  /** Value in seconds of the `Retry-After` header sent with random 429 answers. Default 1. */
  retryAfterSeconds?: number;
  /** Source of randomness in [0, 1) used for the random faults. Default `Math.random`. */
  random?: () => number;
}

/** The two send endpoints of the mock provider. */
export type MockProviderPath = '/sms' | '/email';

/** What happened to one send request, as listed by `GET /requests`. */
export type MockProviderOutcome =
  | 'pending'
  | 'accepted'
  | `status:${number}`
  | 'reset'
  | 'hang'
  | 'invalid';

/** One entry of `GET /requests`. */
export interface MockProviderRequestLogEntry {
  /** `Date.now()` (ms since the epoch) when the request arrived. */
  at_ms: number;
  path: string;
  idempotency_key: string | null;
  /** `pending` only while the request is still waiting out `latencyMs`. */
  outcome: MockProviderOutcome;
}

/** One entry of `GET /received`: one per idempotency key that was accepted at least once. */
export interface MockProviderReceivedMessage {
  idempotency_key: string;
  /** `mock-<uuid>`, stable for the idempotency key. */
  provider_message_id: string;
  path: MockProviderPath;
  /** `sms` / `mms` for `/sms` (from the body), `email` for `/email`. */
  type: string;
  from: string;
  to: string;
  /** Email subject; null for `/sms` or when absent. */
  subject: string | null;
  body: unknown;
  attachments: unknown;
  /** How many accepted requests carried this idempotency key. */
  accepted_count: number;
  /** ISO 8601 time of the first accepted request with this key. */
  first_accepted_at: string;
}

/** A step queued with `POST /_script`; consumed by the next matching send request. */
export type MockProviderScriptStep =
  | {
      action: 'status';
      /** HTTP status to answer (200..599). */
      status: number;
      /** Sent verbatim as the `Retry-After` header (seconds or an HTTP-date). */
      retry_after?: string;
      /** JSON body; default `{"error":{"code":"scripted","message":"scripted <status>"}}`. */
      body?: unknown;
      path?: MockProviderPath;
    }
  | { action: 'reset_after_read'; path?: MockProviderPath }
  | { action: 'hang'; path?: MockProviderPath }
  | { action: 'accept'; path?: MockProviderPath };

const SEND_PATHS: readonly MockProviderPath[] = ['/sms', '/email'];
const SCRIPT_ACTIONS = ['status', 'reset_after_read', 'hang', 'accept'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function checkRate(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new RangeError(`${name} must be a number between 0 and 1, got ${value}`);
  }
  return value;
}

function checkNonNegative(name: string, value: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `${name} must be a non-negative ${integer ? 'integer' : 'number'}, got ${value}`,
    );
  }
  return value;
}

/**
 * Reads the mock provider options from environment variables.
 *
 * - `MOCK_PROVIDER_LATENCY_MS`: delay before each answer, milliseconds (number >= 0), default 0.
 * - `MOCK_PROVIDER_ERROR_RATE`: fraction of send requests answered 503 (0..1), default 0.
 * - `MOCK_PROVIDER_429_RATE`: fraction of the remaining send requests answered 429 (0..1), default 0.
 * - `MOCK_PROVIDER_RETRY_AFTER_S`: `Retry-After` of those 429s, seconds (integer >= 0), default 1.
 *
 * Unset or empty variables take the default.
 *
 * @param env the environment to read, `process.env` by default.
 * @returns the options (without `random`).
 * @throws Error naming the variable when a value is not a plain decimal number or out of range.
 */
export function mockProviderOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): MockProviderOptions {
  const read = (
    name: string,
    fallback: number,
    check: (value: number) => boolean,
    expected: string,
  ): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const text = raw.trim();
    const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(value) || !check(value)) {
      throw new Error(`${name} must be ${expected}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const isRate = (v: number): boolean => v >= 0 && v <= 1;
  return {
    latencyMs: read('MOCK_PROVIDER_LATENCY_MS', 0, (v) => v >= 0, 'a number of milliseconds >= 0'),
    errorRate: read('MOCK_PROVIDER_ERROR_RATE', 0, isRate, 'a number between 0 and 1'),
    rate429: read('MOCK_PROVIDER_429_RATE', 0, isRate, 'a number between 0 and 1'),
    retryAfterSeconds: read(
      'MOCK_PROVIDER_RETRY_AFTER_S',
      1,
      (v) => Number.isInteger(v) && v >= 0,
      'a whole number of seconds >= 0',
    ),
  };
}

/** Parses one script step; returns an error message when it is invalid. */
function parseScriptStep(raw: unknown, index: number): MockProviderScriptStep | string {
  const where = `steps[${index}]`;
  if (!isRecord(raw)) return `${where} must be an object`;
  const action = raw.action;
  if (typeof action !== 'string' || !(SCRIPT_ACTIONS as readonly string[]).includes(action)) {
    return `${where}.action must be one of ${SCRIPT_ACTIONS.join(', ')}`;
  }
  let path: MockProviderPath | undefined;
  if (raw.path !== undefined && raw.path !== null) {
    if (!SEND_PATHS.includes(raw.path as MockProviderPath)) {
      return `${where}.path must be one of ${SEND_PATHS.join(', ')}`;
    }
    path = raw.path as MockProviderPath;
  }
  const withPath = <T extends object>(step: T): T & { path?: MockProviderPath } =>
    path === undefined ? step : { ...step, path };
  switch (action) {
    case 'status': {
      const status = raw.status;
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
        return `${where}.status must be an integer between 200 and 599`;
      }
      let retryAfter: string | undefined;
      if (raw.retry_after !== undefined && raw.retry_after !== null) {
        if (typeof raw.retry_after === 'string') retryAfter = raw.retry_after;
        else if (typeof raw.retry_after === 'number' && Number.isFinite(raw.retry_after)) {
          retryAfter = String(raw.retry_after);
        } else return `${where}.retry_after must be a string`;
      }
      return withPath({
        action: 'status' as const,
        status,
        ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}),
        ...(raw.body !== undefined ? { body: raw.body } : {}),
      });
    }
    case 'reset_after_read':
      return withPath({ action: 'reset_after_read' as const });
    case 'hang':
      return withPath({ action: 'hang' as const });
    default:
      return withPath({ action: 'accept' as const });
  }
}

/**
 * A fake SMS/MMS and email provider over real HTTP, for the delivery worker and tests.
 *
 * Send API: `POST /sms` and `POST /email` need an `Idempotency-Key` header and a JSON body
 * with non-empty string `from` and `to`; they answer 202 `{"id":"mock-<uuid>","status":"accepted"}`
 * (the same id for the same key), or a scripted / random fault.
 *
 * Test API: `POST /_script` queues fault steps, `GET /received` lists accepted messages
 * (one per idempotency key), `GET /requests` logs every send request, `DELETE /received`
 * resets everything, `GET /health` answers `{"status":"ok"}`. In-process tests can also
 * read the open connections and send requests (openConnections, pendingSends,
 * peakPendingSends).
 *
 * Random faults apply only when no script step matches: first with probability `errorRate`
 * a 503, otherwise with probability `rate429` a 429 with `Retry-After: retryAfterSeconds`.
 * `random` is only called for a rate that is above 0.
 */
export class MockProviderServer {
  private readonly latencyMs: number;
  private readonly errorRate: number;
  private readonly rate429: number;
  private readonly retryAfterSeconds: number;
  private readonly random: () => number;

  private readonly app: Express;
  private server: Server | undefined;
  private host = '127.0.0.1';
  private port: number | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private readonly received = new Map<string, MockProviderReceivedMessage>();
  private requestLog: MockProviderRequestLogEntry[] = [];
  private script: MockProviderScriptStep[] = [];
  /** Send requests open right now, and the most open at once (see pendingSends). */
  private pending = 0;
  private pendingPeak = 0;

  /**
   * @param options latency (ms), fault rates (0..1), Retry-After (seconds) and randomness;
   *   see {@link MockProviderOptions}. Throws a RangeError for out-of-range values.
   */
  constructor(options: MockProviderOptions = {}) {
    this.latencyMs = checkNonNegative('latencyMs', options.latencyMs ?? 0, false);
    this.errorRate = checkRate('errorRate', options.errorRate ?? 0);
    this.rate429 = checkRate('rate429', options.rate429 ?? 0);
    this.retryAfterSeconds = checkNonNegative('retryAfterSeconds', options.retryAfterSeconds ?? 1, true);
    this.random = options.random ?? Math.random;
    this.app = this.buildApp();
  }

  /**
   * Base URL of the running server, e.g. `http://127.0.0.1:8001` (a wildcard bind address
   * is reported as 127.0.0.1). Throws when the server is not started.
   */
  get url(): string {
    if (this.port === undefined) throw new Error('MockProviderServer is not started');
    let host = this.host;
    if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
    else if (host === '::') host = '[::1]';
    else if (host.includes(':')) host = `[${host}]`;
    return `http://${host}:${this.port}`;
  }

  /** Open TCP connections from clients, idle keep-alive ones included (read-only, for tests). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /**
   * Send requests (`POST /sms`, `POST /email`) that arrived and are still open: neither
   * answered yet (waiting out `latencyMs`, or hanging) nor given up by the client, whose
   * connection would then be closed. Read-only, for tests: a hanging request that the
   * client timed out no longer counts once its connection is closed.
   */
  get pendingSends(): number {
    return this.pending;
  }

  /** The most send requests open at once (pendingSends) since start() or the last `DELETE /received`. */
  get peakPendingSends(): number {
    return this.pendingPeak;
  }

  /**
   * Starts listening.
   * @param port TCP port; 0 (default) picks a free one.
   * @param host bind address, `127.0.0.1` by default.
   * @returns the bound port.
   */
  start(port = 0, host = '127.0.0.1'): Promise<number> {
    if (this.server) return Promise.reject(new Error('MockProviderServer is already started'));
    const server = createServer(this.app);
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(err);
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        this.host = host;
        this.port = (server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /**
   * Stops the server: cancels pending latency waits, destroys every open socket (also
   * keep-alive and hanging ones) and resolves once the listener is closed. Never blocks
   * on clients; a no-op when not started.
   */
  stop(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = undefined;
    this.port = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private buildApp(): Express {
    const app = express();
    app.disable('x-powered-by');
    app.disable('etag');
    app.use(express.json({ limit: '5mb' }));

    for (const path of SEND_PATHS) {
      app.post(path, (req, res) => this.handleSend(path, req, res));
    }

    app.post('/_script', (req: Request, res: Response) => {
      const steps: unknown = isRecord(req.body) ? req.body.steps : undefined;
      if (!Array.isArray(steps)) {
        res.status(400).json(errorBody('invalid_request', 'body must be {"steps":[...]}'));
        return;
      }
      const parsed: MockProviderScriptStep[] = [];
      for (const [index, raw] of steps.entries()) {
        const step = parseScriptStep(raw, index);
        if (typeof step === 'string') {
          res.status(400).json(errorBody('invalid_request', step));
          return;
        }
        parsed.push(step);
      }
      this.script.push(...parsed);
      res.status(204).end();
    });

    app.get('/received', (_req: Request, res: Response) => {
      res.json([...this.received.values()]);
    });

    app.delete('/received', (_req: Request, res: Response) => {
      this.received.clear();
      this.requestLog = [];
      this.script = [];
      this.pendingPeak = this.pending;
      res.status(204).end();
    });

    app.get('/requests', (_req: Request, res: Response) => {
      res.json(this.requestLog);
    });

    app.get('/health', (_req: Request, res: Response) => {
      res.json({ status: 'ok' });
    });

    app.use((_req: Request, res: Response) => {
      res.status(404).json(errorBody('not_found', 'no such endpoint'));
    });

    // Body parser errors (malformed JSON, too large) and anything unexpected: JSON, never HTML.
    app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
      const status =
        isRecord(err) && typeof err.status === 'number' && err.status >= 400 && err.status < 600
          ? err.status
          : 500;
      if (SEND_PATHS.includes(req.path as MockProviderPath) && req.method === 'POST') {
        this.requestLog.push({
          at_ms: Date.now(),
          path: req.path,
          idempotency_key: req.get('Idempotency-Key') || null,
          outcome: 'invalid',
        });
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const code = status === 413 ? 'payload_too_large' : status < 500 ? 'invalid_request' : 'internal';
      const message = err instanceof Error ? err.message : 'unexpected error';
      res.status(status).json(errorBody(code, message));
    });
    return app;
  }

  private async handleSend(path: MockProviderPath, req: Request, res: Response): Promise<void> {
    // Open until the answer is written or the connection closes ('close' covers both).
    this.pending += 1;
    this.pendingPeak = Math.max(this.pendingPeak, this.pending);
    res.once('close', () => (this.pending -= 1));
    const key = req.get('Idempotency-Key');
    const entry: MockProviderRequestLogEntry = {
      at_ms: Date.now(),
      path,
      idempotency_key: key || null,
      outcome: 'pending',
    };
    this.requestLog.push(entry);

    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    // A client that gave up during the wait does not cancel processing (a real provider
    // would not notice either); the answer is simply not written.

    if (!key) {
      entry.outcome = 'invalid';
      this.reply(res, 400, errorBody('missing_idempotency_key', 'the Idempotency-Key header is required'));
      return;
    }
    const body: Record<string, unknown> = isRecord(req.body) ? req.body : {};
    const invalid = this.validateSend(path, body);
    if (invalid) {
      entry.outcome = 'invalid';
      this.reply(res, 400, errorBody('invalid_request', invalid));
      return;
    }

    const stepIndex = this.script.findIndex((s) => s.path === undefined || s.path === path);
    if (stepIndex >= 0) {
      const [step] = this.script.splice(stepIndex, 1);
      switch (step.action) {
        case 'status': {
          entry.outcome = `status:${step.status}`;
          if (step.retry_after !== undefined) res.setHeader('Retry-After', step.retry_after);
          this.reply(
            res,
            step.status,
            step.body !== undefined ? step.body : errorBody('scripted', `scripted ${step.status}`),
          );
          return;
        }
        case 'reset_after_read':
          this.accept(key, path, body);
          entry.outcome = 'reset';
          req.socket.destroy();
          return;
        case 'hang':
          entry.outcome = 'hang';
          return; // never answered; the socket stays until the client gives up or stop()
        case 'accept':
          break;
      }
    } else if (this.errorRate > 0 && this.random() < this.errorRate) {
      entry.outcome = 'status:503';
      this.reply(res, 503, errorBody('unavailable', 'mock provider temporarily unavailable'));
      return;
    } else if (this.rate429 > 0 && this.random() < this.rate429) {
      entry.outcome = 'status:429';
      res.setHeader('Retry-After', String(this.retryAfterSeconds));
      this.reply(res, 429, errorBody('rate_limited', 'mock provider rate limit exceeded'));
      return;
    }

    const record = this.accept(key, path, body);
    entry.outcome = 'accepted';
    this.reply(res, 202, { id: record.provider_message_id, status: 'accepted' });
  }

  /** Returns an error message for a permanently invalid send body, or undefined. */
  private validateSend(path: MockProviderPath, body: Record<string, unknown>): string | undefined {
    if (!isNonEmptyString(body.from)) return '"from" must be a non-empty string';
    if (!isNonEmptyString(body.to)) return '"to" must be a non-empty string';
    if (path === '/sms' && body.type !== undefined && body.type !== 'sms' && body.type !== 'mms') {
      return '"type" must be "sms" or "mms"';
    }
    return undefined;
  }

  /** Records (or counts again) an accepted request; the first one with a key fixes its id. */
  private accept(
    key: string,
    path: MockProviderPath,
    body: Record<string, unknown>,
  ): MockProviderReceivedMessage {
    const existing = this.received.get(key);
    if (existing) {
      existing.accepted_count += 1;
      return existing;
    }
    const attachments = body.attachments === undefined ? [] : body.attachments;
    const type =
      path === '/email'
        ? 'email'
        : typeof body.type === 'string'
          ? body.type
          : Array.isArray(attachments) && attachments.length > 0
            ? 'mms'
            : 'sms';
    const record: MockProviderReceivedMessage = {
      idempotency_key: key,
      provider_message_id: `mock-${randomUUID()}`,
      path,
      type,
      from: body.from as string,
      to: body.to as string,
      subject: path === '/email' && typeof body.subject === 'string' ? body.subject : null,
      body: body.body === undefined ? null : body.body,
      attachments,
      accepted_count: 1,
      first_accepted_at: new Date().toISOString(),
    };
    this.received.set(key, record);
    return record;
  }

  /** Writes a JSON answer unless the client is already gone. */
  private reply(res: Response, status: number, body: unknown): void {
    if (res.headersSent || res.destroyed || res.socket === null || res.socket.destroyed) return;
    res.status(status).json(body);
  }
}
