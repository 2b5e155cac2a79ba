import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { startTestStack, type TestStack } from '../stack.ts';

// restore, destroyed and list --destroyed, on an allocator with a restore window (cli.test.ts's has none).
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let stack: TestStack;
let gateway: Gateway;
let allocator = '';
const home = mkdtempSync(join(tmpdir(), 'allocator-cli-restore-'));

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'cli-restore', overrides: { ALLOCATOR_RESTORE_WINDOW_SECONDS: '7200' } });
  gateway = await startGateway();
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/syncbase-${name}`, stack.urls[name]);
  allocator = gateway.allocatorFor('syncbase');
});
afterAll(async () => {
  await gateway?.stop();
  await stack?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function allocatorCli(args: string[], email = 'kim@example.com'): Promise<{ code: number; stdout: string; stderr: string }> {
  return await new Promise((resolve) => {
    execFile(
      process.execPath,
      ['cli/bin.ts', ...args],
      {
        cwd: ROOT,
        env: {
          PATH: '/usr/bin:/bin',
          HOME: home,
          METADATA_SERVER_DETECTION: 'none',
          ALLOCATOR: allocator,
          ALLOCATOR_TOKEN: stack.tokenFor(email),
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('allocator restore, destroyed and list --destroyed', () => {
  it('destroys keeping the disk, lists what can be restored, restores, and destroys for good with --now', async () => {
    const name = (await allocatorCli(['create', '--no-wait'])).stdout.trim();
    expect(name).toMatch(/^syncbased-[0-9a-f]{8}$/);

    const destroyed = await allocatorCli(['destroy', name]);
    expect(destroyed).toMatchObject({ code: 0 });
    expect(destroyed.stdout).toMatch(new RegExp(`^destroyed ${name}; restorable until \\d{4}-\\d\\d-\\d\\dT`));

    expect((await allocatorCli(['list', '--destroyed'])).stdout.trim()).toBe(name);
    expect((await allocatorCli(['destroyed', '-l'])).stdout).toMatch(
      new RegExp(`^${name}  kim@example.com  destroyed \\S+  restorable until \\S+ \\((1h59m|2h00m) left\\)$`, 'm'),
    );
    const json = JSON.parse((await allocatorCli(['destroyed', '--json'])).stdout) as { name: string; restorableUntil: string }[];
    expect(json.map((entry) => entry.name)).toEqual([name]);
    expect((await allocatorCli(['list', '--destroyed'], 'lee@example.com')).stdout).toBe('');

    const stranger = await allocatorCli(['restore', name], 'lee@example.com');
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/restore failed: .*\(404 NOT_FOUND\)/);

    const restored = await allocatorCli(['restore', name, '--json']);
    expect(restored).toMatchObject({ code: 0 });
    expect(JSON.parse(restored.stdout)).toMatchObject({ name, owner: 'kim@example.com', state: 'ready' });
    expect(restored.stderr).toContain(`${name}: ready`);
    expect((await allocatorCli(['list'])).stdout.trim()).toBe(name);

    expect(JSON.parse((await allocatorCli(['destroy', name, '--now', '--json'])).stdout)).toEqual({ name, destroyed: true });
    const gone = await allocatorCli(['restore', name]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/404 NOT_FOUND/);
    expect((await allocatorCli(['destroyed'])).stdout).toBe('');
  });

  it('documents the commands and their flags', async () => {
    const help = await allocatorCli(['restore', '--help']);
    expect(help.stdout).toContain('usage: allocator restore <name> [--no-wait] [--json] [--wait-timeout SECONDS] [--lifetime SECONDS]');
    expect((await allocatorCli(['destroy', '--help'])).stdout).toContain('--now deletes the disk at once');
    expect((await allocatorCli(['list', '--help'])).stdout).toContain('--destroyed lists destroyed instances');
    expect((await allocatorCli(['restore'])).code).toBe(2);
  });
});
