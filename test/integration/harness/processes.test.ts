import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually } from '../support.ts';

const PROCESSES_MODULE = fileURLToPath(new URL('../../harness/processes.ts', import.meta.url));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a parent that runs `sleep` under startProcess, prints the sleep's pid, then waits. */
async function parentWithManagedSleep(): Promise<{ parent: ReturnType<typeof spawn>; sleepPid: number }> {
  const script = `
    import { startProcess } from ${JSON.stringify(PROCESSES_MODULE)};
    import { execSync } from 'node:child_process';
    const child = startProcess({ name: 'sleep', command: 'sleep', args: ['300'], logFile: '/dev/null' });
    setTimeout(() => {
      const pid = execSync('pgrep -P ' + child.pid + ' -x sleep').toString().trim();
      console.log(pid);
    }, 300);
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sleepPid = await new Promise<number>((resolve, reject) => {
    parent.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
    parent.once('exit', () => reject(new Error('parent exited early')));
  });
  return { parent, sleepPid };
}

describe('managed processes', () => {
  it.each(['SIGKILL', 'SIGTERM', 'SIGINT'] as const)('die with their parent when it gets %s', async (signal) => {
    const { parent, sleepPid } = await parentWithManagedSleep();
    expect(sleepPid).toBeGreaterThan(0);
    expect(isAlive(sleepPid)).toBe(true);
    parent.kill(signal);
    await eventually(async () => !isAlive(sleepPid), 10_000, `pid ${sleepPid} to exit`);
  });
});

describe('the temp-dir sentinel', () => {
  it('removes the directory when its parent is SIGKILLed', async () => {
    const script = `
      import { removeWhenParentDies } from ${JSON.stringify(PROCESSES_MODULE)};
      import { mkdtempSync, writeFileSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const dir = mkdtempSync(join(tmpdir(), 'allocator-sentinel-'));
      writeFileSync(join(dir, 'data'), 'x');
      removeWhenParentDies(dir);
      console.log(dir);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const dir = await new Promise<string>((resolve) => parent.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())));
    expect(existsSync(dir)).toBe(true);
    parent.kill('SIGKILL');
    await eventually(async () => !existsSync(dir), 10_000, `${dir} to be removed`);
  });
});
