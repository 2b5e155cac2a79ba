import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

/**
 * A child process that dies with its parent. Each child runs under a small
 * shell watchdog that kills it once its stdin pipe closes, which happens when
 * we stop it and also when this process dies for any reason (SIGKILL included),
 * so an interrupted test run leaves nothing behind.
 */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Asks the process to stop (SIGTERM), then SIGKILLs its group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILLs the whole process group at once: a crash, not a stop. */
  kill(): void;
  /** Last lines of the process's log, for error messages. */
  logTail(lines?: number): string;
}

const WATCHDOG = [
  // A background list gets /dev/null as stdin unless redirected, so keep the pipe on fd 3.
  'exec 3<&0',
  '"$@" </dev/null 3<&- & child=$!',
  // The pipe reaches EOF when the parent closes it or dies.
  '( while read -r _ <&3; do :; done; kill -TERM "$child" 2>/dev/null ) &',
  'wait "$child"',
].join('\n');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort on a normal exit: SIGKILL what is left, synchronously.
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Starts `command` with `args`, its stdout and stderr appended to `logFile`. */
export function startProcess(options: {
  name: string;
  command: string;
  args: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): ManagedProcess {
  installExitHook();
  const log = openSync(options.logFile, 'a');
  const child = spawn('sh', ['-c', WATCHDOG, 'watchdog', options.command, ...options.args], {
    stdio: ['pipe', log, log],
    detached: true, // its own process group, so a signal reaches the watchdog's children too
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  live.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  child.unref();
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (!live.has(child)) return;
    child.stdin?.end(); // the watchdog sends SIGTERM and waits
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // The group may still hold grandchildren that ignored SIGTERM.
    killGroup(child, 'SIGKILL');
  };
  return {
    name: options.name,
    pid: child.pid,
    logFile: options.logFile,
    exited,
    stop,
    kill: () => killGroup(child, 'SIGKILL'),
    logTail: (lines = 30) => tailOf(options.logFile, lines),
  };
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `probe` until it returns true, failing with `describe()` after `timeoutMs`. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; what: string; describe?: () => string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
  const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  const details = options.describe ? `\n${options.describe()}` : '';
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${reason}${details}`);
}

/**
 * Removes `dir` once this process is gone, however it goes (SIGKILL included):
 * a shell holds our pipe and deletes the directory when the pipe closes.
 * Returns a release function that removes nothing but ends the sentinel.
 */
export function removeWhenParentDies(dir: string): () => void {
  const sentinel = spawn(
    'sh',
    [
      '-c',
      'while read -r _; do :; done; for i in 1 2 3 4 5; do rm -rf "$1" 2>/dev/null && [ ! -e "$1" ] && exit 0; sleep 1; done',
      'sentinel',
      dir,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  sentinel.unref();
  return () => {
    sentinel.stdin?.end();
  };
}
