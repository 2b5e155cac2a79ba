import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { startTestStack, type TestStack } from '../stack.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = new URL('../../fixtures/templates/', import.meta.url);
const IMAGE = 'us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased';
let stack: TestStack;
let gateway: Gateway;
let allocator = '';
const home = mkdtempSync(join(tmpdir(), 'allocator-cli-parameters-home-'));

beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'cli-parameters',
    overrides: {
      ALLOCATOR_TEMPLATE: fileURLToPath(new URL('parameters.json.hbs', FIXTURES)),
      ALLOCATOR_PARAMETERS: fileURLToPath(new URL('parameters.yaml', FIXTURES)),
    },
  });
  gateway = await startGateway();
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/syncbase-${name}`, stack.urls[name]);
  allocator = gateway.allocatorFor('syncbase');
});
afterAll(async () => {
  await gateway?.stop();
  await stack?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** Runs the CLI as a subprocess; asynchronously, because the functions it calls live in this process. */
async function allocatorCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return await new Promise((resolve) => {
    execFile(
      process.execPath,
      ['cli/bin.ts', ...args],
      { cwd: ROOT, env: { PATH: '/usr/bin:/bin', HOME: home, METADATA_SERVER_DETECTION: 'none', ALLOCATOR: allocator, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const as = (email: string): Record<string, string> => ({ ALLOCATOR_TOKEN: stack.tokenFor(email) });

async function imageOf(name: string): Promise<string | undefined> {
  const deployment = await stack.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: stack.namespace });
  return deployment.spec?.template.spec?.containers[0]?.image;
}

describe('the CLI and parameters', () => {
  it('prints what the allocator takes, plain and as JSON, with no sign-in at all', async () => {
    const plain = await allocatorCli(['parameters']);
    expect(plain).toMatchObject({ code: 0, stderr: '' });
    expect(plain.stdout).toBe(
      [
        'imageTag (default "v1")',
        '  text matching ^[a-z0-9][-a-z0-9._]*$, of at most 64 characters',
        "  The syncbased image tag to run, such as a pull request's build.",
        '',
        'logLevel (default "info")',
        '  one of "debug", "info", "warning"',
        '  How much syncbased logs.',
        '',
        'note (default "")',
        '  text matching ^[\\s\\S]*$, of at most 200 characters',
        '  Free text the instance carries in its environment as NOTE.',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await allocatorCli(['parameters', '--json'])).stdout) as { name: string; default: string }[];
    expect(json.map(({ name, default: fallback }) => [name, fallback])).toEqual([
      ['imageTag', 'v1'],
      ['logLevel', 'info'],
      ['note', ''],
    ]);
  });

  it('creates with --param, shows the parameters, and refuses a bad one naming it', async () => {
    const created = await allocatorCli(['create', '--json', '--param', 'imageTag=pr-123', '--param', 'note=a=b c'], as('kim@example.com'));
    expect(created.code).toBe(0);
    const instance = JSON.parse(created.stdout) as { name: string; parameters: Record<string, string> };
    expect(instance.parameters).toEqual({ imageTag: 'pr-123', logLevel: 'info', note: 'a=b c' });
    expect(await imageOf(instance.name)).toBe(`${IMAGE}:pr-123`);
    const long = await allocatorCli(['list', '-l'], as('kim@example.com'));
    expect(long.stdout).toContain('Parameter:  imageTag=pr-123\nParameter:  logLevel=info\nParameter:  note=a=b c\n');

    const refused = await allocatorCli(['create', '--param', 'logLevel=trace'], as('kim@example.com'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /allocator: create failed: parameter "logLevel" is "trace": it must be one of "debug", "info", "warning" \(400 INVALID_ARGUMENT\)/,
    );
    const usage = await allocatorCli(['create', '--param', 'logLevel'], as('kim@example.com'));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--param takes NAME=VALUE/);
    expect((await allocatorCli(['destroy', instance.name], as('kim@example.com'))).code).toBe(0);
  });

  it('runs a command against an instance made with --param', async () => {
    const run = await allocatorCli(
      ['run', '--param', 'imageTag=pr-77', '--', process.execPath, 'cli/bin.ts', 'list', '-l'],
      as('oz@example.com'),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Parameter:\s+imageTag=pr-77$/m);
    expect((await allocatorCli(['list'], as('oz@example.com'))).stdout).toBe('');
  });
});
