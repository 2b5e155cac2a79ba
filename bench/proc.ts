// A function process's memory and CPU, read from /proc (Linux).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The node process under a watchdog shell (how test/harness/processes.ts starts them). */
export function nodePidUnder(watchdogPid: number): number {
  return Number(
    execFileSync('pgrep', ['-P', String(watchdogPid), '-f', 'node'])
      .toString()
      .trim()
      .split('\n')[0],
  );
}

/** VmRSS, in MB. */
export function rssMbOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** User plus system CPU time so far, in ms (/proc/PID/stat's utime and stime, in 100 Hz ticks). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** VmRSS of the node process under a watchdog shell, in MB. */
export const rssOfChildNode = (watchdogPid: number): number => rssMbOf(nodePidUnder(watchdogPid));
