import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../harness/browser.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), 'allocator-local-test-'));
const env = { ...process.env, ALLOCATOR_LOCAL_STACK_FILE: join(stateDir, 'stack.json') };
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('npm run local (the main job on one machine)', () => {
  it('serves create, list and destroy with tokens from local:token, and stops cleanly on Ctrl-C', async () => {
    const local = spawn(process.execPath, ['local/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    local.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    local.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const urls = await eventually(
        async () => {
          const match = /create\s+POST\s+(\S+)\n\s+destroy\s+POST\s+(\S+)\n\s+list\s+GET\s+(\S+)/.exec(output);
          return match ? { create: match[1]!, destroy: match[2]!, list: match[3]! } : undefined;
        },
        90_000,
        `npm run local to print its URLs; output so far:\n${output}`,
      );
      // allocator login finds the local CLI client and the issuer's stand-in endpoints at /openapi.json.
      expect(output).toContain('allocator -- login');
      const description = (await (await fetch(`${urls.list}/openapi.json`)).json()) as { info: Record<string, unknown> };
      expect(description.info['x-allocator-sign-in']).toMatchObject({
        clientId: 'local-cli.apps.googleusercontent.com',
        tokenEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/token$/),
      });
      const token = execFileSync(process.execPath, ['local/token.ts', 'ada@example.com'], { cwd: ROOT, env }).toString().trim();
      const headers = { authorization: `Bearer ${token}` };

      const created = await fetch(urls.create, { method: 'POST', headers, body: '{}' });
      expect(created.status).toBe(201);
      const { name, accessList } = (await created.json()) as { name: string; accessList: { In: string[] } };
      // The sample syncbased compares blessings: the stack writes blessing patterns unless told otherwise.
      expect(accessList).toEqual({ In: ['dev.v.io:u:ada@example.com', 'dev.v.io:u:admin@example.com'] });
      const listed = (await (await fetch(urls.list, { headers })).json()) as { instances: { name: string }[] };
      expect(listed.instances.map((i) => i.name)).toEqual([name]);
      expect((await fetch(urls.destroy, { method: 'POST', headers, body: JSON.stringify({ name }) })).status).toBe(200);

      // The printed dashboard: a person signs in as any email and makes an instance, without a terminal.
      const dashboard = /dashboard\s+(\S+)/.exec(output)?.[1];
      expect(dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/allocator-list\/dashboard\/$/);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(dashboard!);
        await page.getByLabel('Sign in as (local)').fill('ada@example.com');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('button', { name: 'Create an instance' }).click();
        await page.locator('.state-ready').waitFor({ timeout: 60_000 });
        const made = (await page.getByRole('article').getByRole('heading').textContent()) ?? '';
        await page.getByRole('button', { name: `Destroy ${made}` }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
        await page.getByText('No instances yet.').waitFor();
      } finally {
        await browser.close();
      }
    } finally {
      local.kill('SIGINT');
      await new Promise((resolve) => local.once('exit', resolve));
    }
    expect(output).toMatch(/stopping/);
    expect(existsSync(join(stateDir, 'stack.json'))).toBe(false);
  });
});
