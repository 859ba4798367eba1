import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { waitFor } from './test-app';
import { freePort } from './free-port';

/** Root of the repository. */
export const ROOT = join(__dirname, '..', '..');

/**
 * Compiled copies of the service for tests that run it as a child process, one per
 * state of the sources (`<hash>/src/main.js`). Not dist/: `nest build` empties dist/
 * first, so a build started by another test run or an `npm start` in the same
 * checkout would pull the files from under a running child.
 */
const BUILD_CACHE = join(ROOT, 'node_modules', '.cache', 'messaging-service-e2e');

/** Files whose content decides the build: what tsconfig.build.json compiles, and the configs. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) files.push(path);
    }
  };
  walk(join(ROOT, 'src'));
  walk(join(ROOT, 'migrations'));
  files.push(join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json'));
  return files.sort();
}

/**
 * Compiles the service (tsc -p tsconfig.build.json, as `nest build` does) into a
 * directory of its own, named by a hash of the sources, unless that build exists; a
 * build is published by renaming its finished directory, so parallel test runs never
 * see half a build.
 * @returns the path of its main.js
 */
export function builtMain(): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles()) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(BUILD_CACHE, key);
  const main = join(dir, 'src', 'main.js');
  if (existsSync(main)) return main;

  mkdirSync(BUILD_CACHE, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', tmp, '--tsBuildInfoFile', join(tmp, 'tsconfig.build.tsbuildinfo')],
    { cwd: ROOT, stdio: 'inherit', timeout: 180_000 },
  );
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another run published the same build first
  }
  pruneOldBuilds(key);
  return main;
}

/** Removes builds of other source states older than a day. */
function pruneOldBuilds(keep: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(BUILD_CACHE)) {
    const path = join(BUILD_CACHE, name);
    if (name !== keep && statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
}

/** How a service process ended. */
export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `node <build>/src/main.js`. */
export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when it has exited. */
  exited: Promise<ServiceExit>;
  /** Sends `signal` (to its whole process group when it was started `detached`) and waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<ServiceExit & { ms: number }>;
}

/**
 * Starts the built service (builtMain()) with `env` on top of the test environment
 * (DATABASE_URL is the test database) and waits until GET /health/ready answers 200.
 * @param options.detached run it in a process group of its own (to send a signal to the group, as a terminal's Ctrl-C does)
 */
export function startService(
  main: string,
  port: number,
  env: Record<string, string | undefined>,
  options: { detached?: boolean; readyTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  return startBuilt(main, port, { PORT: String(port), ...env }, '/health/ready', options);
}

/**
 * The built-service processes a test file starts (startService on a free port), tracked
 * until they exit, so that its afterAll can kill whatever is still running.
 */
export class ServiceProcesses {
  private readonly running = new Set<ServiceProcess>();

  /** Starts the built service `main` with `env` (see startService) and tracks it. */
  async start(main: string, env: Record<string, string | undefined>, options: { detached?: boolean; readyTimeoutMs?: number } = {}): Promise<ServiceProcess> {
    const service = await startService(main, await freePort(), env, options);
    this.running.add(service);
    void service.exited.then(() => this.running.delete(service));
    return service;
  }

  /** SIGKILLs every tracked process still running and waits until they have exited. */
  async killAll(): Promise<void> {
    await Promise.all([...this.running].map((s) => s.stop('SIGKILL')));
  }
}

/**
 * Starts the built standalone mock provider (`npm run start:mock`, from the same build
 * as `main`, see builtMain()) on 0.0.0.0:`port` with `env` on top of the test
 * environment (MOCK_PROVIDER_LATENCY_MS and friends), and waits until GET /health
 * answers 200. Its baseUrl is what the service's MOCK_PROVIDER_URL takes.
 */
export function startBuiltMockProvider(
  main: string,
  port: number,
  env: Record<string, string | undefined> = {},
  options: { readyTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const script = join(dirname(main), 'providers', 'mock', 'mock-provider.main.js');
  return startBuilt(script, port, { MOCK_PROVIDER_PORT: String(port), ...env }, '/health', options);
}

/** Runs `node <script>` with `env` on top of the test environment and waits until `readyPath` answers 200. */
async function startBuilt(
  script: string,
  port: number,
  env: Record<string, string | undefined>,
  readyPath: string,
  options: { detached?: boolean; readyTimeoutMs?: number },
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<ServiceExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const baseUrl = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    child,
    port,
    baseUrl,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) {
        if (options.detached && child.pid) process.kill(-child.pid, signal);
        else child.kill(signal);
      }
      return { ...(await exited), ms: Date.now() - started };
    },
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`service exited early (${child.exitCode ?? child.signalCode})`);
        try {
          return (await fetch(`${baseUrl}${readyPath}`)).status === 200;
        } catch {
          return false;
        }
      },
      `${relative(ROOT, script)} on port ${port} to be ready`,
      options.readyTimeoutMs ?? 30_000,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return service;
}
