import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ: `getconf CLK_TCK`, 100 on Linux). */
const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of /proc/<pid>/stat, seconds; 0 when the process is gone (or /proc is missing). */
export function processCpuSeconds(pid: number): number {
  try {
    return cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), false);
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of a /proc/<pid>/stat line: utime and stime (fields 14 and 15, counted
 * after the `(comm)` field, which may hold spaces), and with `withReapedChildren` also
 * cutime and cstime (16 and 17): the time of its children that have ended (proc(5)).
 */
function cpuSecondsOfStat(stat: string, withReapedChildren: boolean): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  return (withReapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS_PER_S;
}

/**
 * CPU time of every process named `postgres` on this machine, seconds. With the time of
 * their ended children: a backend whose connection closes during a measurement (a pool
 * dropping an idle connection) leaves the list, and its time moves to the postmaster's
 * cutime/cstime, so the sum does not drop.
 */
export function postgresCpuSeconds(): number {
  let seconds = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.includes(' (postgres) ')) seconds += cpuSecondsOfStat(stat, true);
    } catch {
      // The process ended while the list was read.
    }
  }
  return seconds;
}

/**
 * Runs `run` and tells the CPU time each of `pids` used meanwhile, and PostgreSQL's
 * (every local `postgres` process) when `countPostgres`, in seconds. A process's CPU
 * time counts all its threads (GC, libuv), user and system (its socket writes).
 */
export async function measureCpu<T>(pids: Record<string, number | undefined>, countPostgres: boolean, run: () => Promise<T>): Promise<{ result: T; cpuSeconds: Record<string, number> }> {
  const snapshot = () => {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) if (pid) out[name] = processCpuSeconds(pid);
    if (countPostgres) out.postgres = postgresCpuSeconds();
    return out;
  };
  const before = snapshot();
  const result = await run();
  const after = snapshot();
  return { result, cpuSeconds: Object.fromEntries(Object.keys(before).map((name) => [name, after[name] - before[name]])) };
}

/**
 * @param cpuSeconds CPU seconds by process, as measureCpu() tells them
 * @param requests requests answered meanwhile
 * @returns CPU ms per request by process, to the microsecond
 */
export function cpuMsPerRequest(cpuSeconds: Record<string, number>, requests: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpuSeconds).map(([name, s]) => [name, Math.round((s * 1_000_000) / Math.max(1, requests)) / 1000]));
}
