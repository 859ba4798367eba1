import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A child process the bench started (the service, the baseline, the mock providers). */
export interface BenchProcess {
  name: string;
  child: ChildProcess;
  baseUrl: string;
  /** What it wrote to stdout and stderr (the last 64 KB). */
  output(): string;
  /** Highest resident set size seen, MB: the kernel's VmHWM while it runs, and what the sampler saw. */
  peakRssMb(): number;
  /** Resident set size now, MB (0 once it has exited). */
  rssMb(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Reads a `kB` field of /proc/<pid>/status (VmRSS, VmHWM), in MB; 0 when the process is gone. */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Starts `node <args>` with `env` on top of the bench's environment, samples its RSS every
 * 200 ms, and waits until GET `readyPath` answers 200 (the process must exit neither
 * before nor within `timeoutMs`).
 */
export async function startNodeProcess(
  name: string,
  args: string[],
  env: Record<string, string | undefined>,
  port: number,
  readyPath: string,
  timeoutMs = 60_000,
): Promise<BenchProcess> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let peak = 0;
  const sample = () => {
    if (child.pid) peak = Math.max(peak, procStatusMb(child.pid, 'VmHWM'), procStatusMb(child.pid, 'VmRSS'));
  };
  const sampler = setInterval(sample, 200);
  void exited.then(() => clearInterval(sampler));
  const baseUrl = `http://127.0.0.1:${port}`;
  const proc: BenchProcess = {
    name,
    child,
    baseUrl,
    output: () => output,
    peakRssMb: () => {
      sample();
      return peak;
    },
    rssMb: () => (child.pid ? procStatusMb(child.pid, 'VmRSS') : 0),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      sample();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited during start-up:\n${output}`);
    try {
      if ((await fetch(`${baseUrl}${readyPath}`)).status === 200) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop(1_000);
      throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Stops `processes` in the reverse order of their start (a process that fails to stop
 * does not keep the others running), then the bench database.
 */
export async function stopAll(processes: BenchProcess[], db: { stop(): Promise<void> }): Promise<void> {
  for (const p of [...processes].reverse()) await p.stop().catch(() => undefined);
  await db.stop();
}

/** Runs a bench command's `main`: its error's stack on stderr and exit code 1 when it fails. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  });
}
