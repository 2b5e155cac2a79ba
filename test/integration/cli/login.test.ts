import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { googleIdTokenSource } from '../../../client/id-token.ts';
import { LoginStore } from '../../../client/login-store.ts';
import { jwtClaims } from '../../../client/oauth.ts';
import { launchChromium } from '../../harness/browser.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { ADMIN, startTestStack, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLIENT_ID = 'allocator-cli.apps.googleusercontent.test';
const CLIENT_SECRET = 'desktop-app-secret';
/** The allocator's admin: its login token, bound to this allocator, carries an admin's powers (a gcloud token would not). */
const EMAIL = ADMIN;
let stack: TestStack;
let gateway: Gateway;
let browser: Browser;
let allocator = '';
const home = mkdtempSync(join(tmpdir(), 'allocator-login-home-'));
const configHome = join(home, 'xdg-config');

beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'login',
    overrides: ({ issuer }) => ({
      ALLOCATOR_CLI_CLIENT_ID: CLIENT_ID,
      ALLOCATOR_CLI_CLIENT_SECRET: CLIENT_SECRET,
      ALLOCATOR_OAUTH_AUTHORIZATION_URL: `${issuer.url}/o/oauth2/v2/auth`,
      ALLOCATOR_OAUTH_TOKEN_URL: `${issuer.url}/token`,
      ALLOCATOR_OAUTH_REVOCATION_URL: `${issuer.url}/revoke`,
    }),
  });
  stack.issuer.registerOAuthClient({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  gateway = await startGateway();
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/syncbase-${name}`, stack.urls[name]);
  allocator = gateway.allocatorFor('syncbase');
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await stack?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** The CLI's environment: no token, no key file, no metadata server; gcloud, if installed, has no account in this HOME. */
const cliEnv = (): Record<string, string> => ({
  PATH: '/usr/bin:/bin',
  HOME: home,
  XDG_CONFIG_HOME: configHome,
  METADATA_SERVER_DETECTION: 'none',
  ALLOCATOR: allocator,
});

async function allocatorCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['cli/bin.ts', ...args], { cwd: ROOT, env: cliEnv() }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('allocator login', () => {
  it('signs in through the browser, calls the allocator with tokens for its own client, and logs out', async () => {
    const child = spawn(process.execPath, ['cli/bin.ts', 'login', '--no-browser'], { cwd: ROOT, env: cliEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await eventually(async () => /^\s+(http\S+)$/m.exec(stderr)?.[1], 30_000, 'the sign-in URL');
    const params = new URL(url).searchParams;
    expect(url.startsWith(`${stack.issuer.url}/o/oauth2/v2/auth?`)).toBe(true);
    expect(Object.fromEntries(params)).toMatchObject({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid email',
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'consent',
    });
    expect(params.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.getByLabel('Email').fill(EMAIL);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((target) => target.href.startsWith(params.get('redirect_uri') as string));
      expect(await page.textContent('body')).toContain('Signed in');
    } finally {
      await page.close();
    }
    expect(await exited).toBe(0);
    expect(stdout).toBe(`Signed in to ${allocator} as ${EMAIL}.\n`);

    const store = new LoginStore(join(configHome, 'allocator'));
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    expect(store.get(allocator)).toMatchObject({ clientId: CLIENT_ID, email: EMAIL });
    // The tokens minted from it are for the CLI's client, not the allocator's URL nor gcloud's client.
    const minted = await googleIdTokenSource({ logins: store, gcloud: '/nonexistent/gcloud' }).getIdToken(allocator);
    expect(jwtClaims(minted)).toMatchObject({ aud: CLIENT_ID, azp: CLIENT_ID, email: EMAIL });

    const created = await allocatorCli(['create']);
    expect(created).toMatchObject({ code: 0 });
    const name = created.stdout.trim();
    expect(name).toMatch(/^syncbased-[0-9a-f]{8}$/);
    const listed = await allocatorCli(['list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name, owner: EMAIL })]);
    expect(await allocatorCli(['extend', name, '--lifetime', '600'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(`^${name} expires `),
    });
    expect(await allocatorCli(['suspend', name])).toMatchObject({ code: 0, stdout: `${name}: suspended\n` });
    expect(await allocatorCli(['resume', name])).toMatchObject({ code: 0, stdout: `${name}\n` });
    expect(await allocatorCli(['reset', name])).toMatchObject({ code: 0, stdout: `${name}\n` });
    const everyone = await allocatorCli(['list', '--all', '--json']);
    expect(JSON.parse(everyone.stdout)).toEqual([expect.objectContaining({ name, owner: EMAIL, state: 'ready' })]);
    const swept = await allocatorCli(['sweep', '--dry-run', '--json']);
    expect(swept.code).toBe(0);
    expect(JSON.parse(swept.stdout)).toMatchObject({ dryRun: true, failed: [] });
    expect(await allocatorCli(['destroy', name])).toMatchObject({ code: 0, stdout: `destroyed ${name}\n` });
    const ran = await allocatorCli(['run', '--', 'sh', '-c', 'echo on $ALLOCATOR_INSTANCE_NAME']);
    expect(ran).toMatchObject({ code: 0, stdout: expect.stringMatching(/^on syncbased-[0-9a-f]{8}\n$/) });
    expect(JSON.parse((await allocatorCli(['list', '--json'])).stdout)).toEqual([]);

    const revokedBefore = stack.issuer.liveRefreshTokens;
    expect(await allocatorCli(['logout'])).toMatchObject({ code: 0, stdout: `Signed out of ${allocator} (${EMAIL}).\n` });
    expect(existsSync(store.file)).toBe(false);
    expect(stack.issuer.liveRefreshTokens).toBe(revokedBefore - 1);
    const after = await allocatorCli(['list']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(
      /no Google identity found \(google-auth-library: .*; gcloud: .+\)\. Either:\n +- sign in with `allocator login`/,
    );
  });

  it('says when the allocator publishes no sign-in client', async () => {
    const bare = await startTestStack({ prefix: 'login-bare' });
    try {
      gateway.route('/bare-list', bare.urls.list);
      const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['cli/bin.ts', 'login', '--no-browser'],
          { cwd: ROOT, env: { ...cliEnv(), ALLOCATOR: gateway.allocatorFor('bare') } },
          (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
      expect(run).toEqual({ code: 1, stderr: expect.stringMatching(/publishes no sign-in client .*ALLOCATOR_CLI_CLIENT_ID/) });
    } finally {
      await bare.stop();
    }
  });

  it('has --help for login and logout', async () => {
    for (const command of ['login', 'logout']) {
      const run = await allocatorCli([command, '--help']);
      expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^usage: allocator ${command}`)) });
    }
  });
});
