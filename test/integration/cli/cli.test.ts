import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { ADMIN, call, serveInProcess, startTestStack, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let stack: TestStack;
let gateway: Gateway;
let allocator = '';
const home = mkdtempSync(join(tmpdir(), 'allocator-cli-home-'));

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'cli' });
  gateway = await startGateway();
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/syncbase-${name}`, stack.urls[name]);
  allocator = gateway.allocatorFor('syncbase');
});
afterAll(async () => {
  await gateway?.stop();
  await stack?.stop();
  rmSync(home, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a subprocess; asynchronously, because the functions it calls live in this process. */
async function allocatorCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(
      process.execPath,
      ['cli/bin.ts', ...args],
      {
        cwd: ROOT,
        // No metadata server probe and no gcloud: nothing but loopback is reached.
        env: { PATH: '/usr/bin:/bin', HOME: home, METADATA_SERVER_DETECTION: 'none', ALLOCATOR: allocator, ...env },
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const as = (email: string): Record<string, string> => ({ ALLOCATOR_TOKEN: stack.tokenFor(email) });

describe('the allocator CLI against a local allocator', () => {
  it('creates, lists (plain, -l and --json) and destroys', async () => {
    const created = await allocatorCli(['create'], as('kim@example.com'));
    expect(created).toMatchObject({ code: 0 });
    const name = created.stdout.trim();
    expect(name).toMatch(/^syncbased-[0-9a-f]{8}$/);
    // Each step the allocator streamed, in order, with how long it took.
    const step = (words: string) => `${name}: ${words} \\(\\d+\\.\\d+s\\)\\n`;
    expect(created.stderr).toMatch(
      new RegExp(
        [
          'slot taken',
          'disk ready',
          'Deployment sent to Kubernetes',
          'pod scheduled on a node',
          'image pulled',
          'containers started',
          'ready',
        ]
          .map(step)
          .join(''),
      ),
    );

    expect((await allocatorCli(['list'], as('kim@example.com'))).stdout).toBe(`${name}\n`);
    const long = await allocatorCli(['list', '-l'], as('kim@example.com'));
    expect(long.stdout).toMatch(
      new RegExp(
        `^Name:\\s+${name}\\nState:\\s+ready\\nMountName:\\s+/ns.test/allocated/${name}\\nOwner:\\s+kim@example.com\\nCreated:.*ago\\)\\nReplicas:\\s+1/1 ready\\nVersion:\\s+v1\\nDisk:\\s+${name}\\nExpires:\\s+never\\nAccessList:\\s+kim@example.com, admin@example.com\\nYouMay:\\s+extend, suspend, resume, restart, reset, share, unshare, transfer, destroy\\n$`,
      ),
    );
    const json = JSON.parse((await allocatorCli(['list', '--json'], as('kim@example.com'))).stdout) as { name: string }[];
    expect(json.map((i) => i.name)).toEqual([name]);

    const destroyed = await allocatorCli(['destroy', name], as('kim@example.com'));
    expect(destroyed).toMatchObject({ code: 0, stdout: `destroyed ${name}\n` });
    // Nothing on stdout for a script; a person is told why, on stderr.
    expect(await allocatorCli(['list'], as('kim@example.com'))).toMatchObject({
      code: 0,
      stdout: '',
      stderr: expect.stringMatching(/you have no instances/),
    });
    expect(await allocatorCli(['list', '-l'], as('kim@example.com'))).toMatchObject({ stdout: '' });
    expect(JSON.parse((await allocatorCli(['list', '--json'], as('kim@example.com'))).stdout)).toEqual([]);
  });

  it('creates without waiting and prints the instance as JSON', async () => {
    const created = await allocatorCli(['create', '--no-wait', '--json'], as('lou@example.com'));
    expect(created.code).toBe(0);
    const instance = JSON.parse(created.stdout) as { name: string; owner: string };
    expect(instance.owner).toBe('lou@example.com');
    expect((await allocatorCli(['destroy', instance.name], as('lou@example.com'))).code).toBe(0);
  });

  it('turns a server error into one line and exit 1: the limit, a missing instance', async () => {
    const first = await allocatorCli(['create', '--no-wait'], as('max@example.com'));
    const second = await allocatorCli(['create', '--no-wait'], as('max@example.com'));
    const third = await allocatorCli(['create', '--no-wait'], as('max@example.com'));
    expect([first.code, second.code, third.code]).toEqual([0, 0, 1]);
    expect(third.stderr).toBe(
      'allocator: create failed: you already have 2 instances, the most allowed per user; destroy one first (429 RESOURCE_EXHAUSTED)\n',
    );
    expect((await allocatorCli(['destroy', first.stdout.trim(), second.stdout.trim()], as('max@example.com'))).code).toBe(0);

    const missing = await allocatorCli(['destroy', 'syncbased-00000000'], as('max@example.com'));
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'allocator: destroy syncbased-00000000: instance syncbased-00000000 not found (404 NOT_FOUND)\n',
    });
  });

  it('says a bad token is refused', async () => {
    const run = await allocatorCli(['list', '--token', 'not-a-token']);
    expect(run).toMatchObject({
      code: 1,
      stderr: 'allocator: list failed: malformed token: expected three dot-separated parts (401 UNAUTHENTICATED)\n',
    });
  });

  it('says that restore is off, and what turns it on, where the allocator keeps no disk after a destroy', async () => {
    const run = await allocatorCli(['list', '--destroyed'], as('kim@example.com'));
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toMatch(/^allocator: restore is off here: .*\n.*ALLOCATOR_RESTORE_WINDOW_SECONDS/);
  });

  it('says which identity to set up when there is none', async () => {
    const run = await allocatorCli(['list']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /no Google identity found \(google-auth-library: Could not load the default credentials.*; gcloud: .+\)\. Either:\n +- sign in with `allocator login`\n +- pass --token \(or set ALLOCATOR_TOKEN\)\n +- set GOOGLE_APPLICATION_CREDENTIALS [^\n]*\n[\s\S]*`gcloud auth print-identity-token` works/,
    );
  });

  it.each([
    [['frob'], /unknown command "frob"/],
    [['destroy'], /destroy needs at least one instance name/],
    [['list', '--bogus'], /Unknown option '--bogus'/],
    [['create', '--wait-timeout', 'soon'], /--wait-timeout takes a whole number/],
    [['run'], /run needs a command after --/],
    [['list', '--allocator', 'ftp://x'], /--allocator must be an https URL/],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const run = await allocatorCli(args as string[], as('ned@example.com'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it.each(['create', 'destroy', 'list', 'run', 'suspend', 'resume', 'reset'])('has --help for %s', async (command) => {
    const run = await allocatorCli([command, '--help']);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(new RegExp(`^usage: allocator ${command}`));
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('destroys the instance of run when it gets %s mid-command', async (signal) => {
    const child = spawn(
      process.execPath,
      ['cli/bin.ts', 'run', '--', 'sh', '-c', 'echo "started $ALLOCATOR_INSTANCE_NAME"; exec sleep 30'],
      {
        cwd: ROOT,
        env: { PATH: '/usr/bin:/bin', HOME: home, METADATA_SERVER_DETECTION: 'none', ALLOCATOR: allocator, ...as('pia@example.com') },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const name = await eventually(async () => /started (syncbased-[0-9a-f]{8})/.exec(stdout)?.[1], 30_000, 'the command to start');
    child.kill(signal);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(128 + (signal === 'SIGTERM' ? 15 : 2));
    expect(stderr).toContain(`destroying ${name}`);
    expect((await allocatorCli(['list'], as('pia@example.com'))).stdout).toBe('');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'destroys the instance a create was waiting for when it gets %s, once a step has named it',
    async (signal) => {
      // Pods that never become ready: the create is still waiting on the allocator when the signal comes.
      const urls = await stack.variant({
        ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../../fixtures/templates/never-ready.json.hbs', import.meta.url)),
      });
      const prefix = `never-ready-${signal.toLowerCase()}`;
      for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/${prefix}-${name}`, urls[name]);
      const env = { PATH: '/usr/bin:/bin', HOME: home, METADATA_SERVER_DETECTION: 'none', ...as('ned@example.com') };
      const child = spawn(process.execPath, ['cli/bin.ts', 'create', '--allocator', gateway.allocatorFor(prefix)], { cwd: ROOT, env });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const name = await eventually(
        async () => /(syncbased-[0-9a-f]{8}): Deployment sent to Kubernetes/.exec(stderr)?.[1],
        30_000,
        'the Deployment step',
      );
      child.kill(signal);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
      expect(code).not.toBe(0);
      expect(stderr).toContain(`${name}: destroying it`);
      const listed = await call<{ instances: { name: string }[] }>(urls.list, { token: stack.tokenFor('ned@example.com'), method: 'GET' });
      expect(listed.body.instances).toEqual([]);
    },
  );

  it("holds run's instance on a lease it renews while the command runs; once run is SIGKILLed, the next sweep after the lease destroys it", async () => {
    const child = spawn(
      process.execPath,
      ['cli/bin.ts', 'run', '--lease', '6', '--', 'sh', '-c', 'echo "started $ALLOCATOR_INSTANCE_NAME $$"; exec sleep 60'],
      {
        cwd: ROOT,
        env: { PATH: '/usr/bin:/bin', HOME: home, METADATA_SERVER_DETECTION: 'none', ALLOCATOR: allocator, ...as('kai@example.com') },
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [, name, shellPid] = await eventually(
      async () => /started (syncbased-[0-9a-f]{8}) (\d+)/.exec(stdout) ?? undefined,
      30_000,
      'the command to start',
    );
    const sweep = async () =>
      (await call<{ expired: { name: string }[] }>(`${stack.urls.destroy}/sweep`, { token: stack.tokenFor(ADMIN), body: {} })).body;
    // Alive for longer than the lease: renewed, so not expired. (A 6 s lease: renewals keep up even when a round trip takes seconds.)
    await new Promise((resolve) => setTimeout(resolve, 7_500));
    expect((await sweep()).expired.map((e) => e.name)).not.toContain(name);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    process.kill(Number(shellPid), 'SIGKILL'); // the command outlives a SIGKILLed run, as in CI
    expect((await allocatorCli(['list'], as('kai@example.com'))).stdout).toBe(`${name}\n`);
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    expect((await sweep()).expired.map((e) => e.name)).toEqual([name]);
    expect((await allocatorCli(['list'], as('kai@example.com'))).stdout).toBe('');
  });

  it('stops the command and exits 75, saying why, when the lease cannot be renewed before it runs out; still destroys the instance', async () => {
    // A gateway of its own, whose create function (and with it /extend) can be taken away mid-run.
    const own = await startGateway();
    for (const name of ['create', 'destroy', 'list'] as const) own.route(`/syncbase-${name}`, stack.urls[name]);
    try {
      const child = spawn(
        process.execPath,
        [
          'cli/bin.ts',
          'run',
          '--lease',
          '6',
          '--',
          'sh',
          '-c',
          // Exits 0 on SIGTERM: the 75 is run's own.
          'trap \'kill $!; echo "got SIGTERM"; exit 0\' TERM; echo "started $ALLOCATOR_INSTANCE_NAME"; sleep 60 & wait',
        ],
        {
          cwd: ROOT,
          env: {
            PATH: '/usr/bin:/bin',
            HOME: home,
            METADATA_SERVER_DETECTION: 'none',
            ALLOCATOR: own.allocatorFor('syncbase'),
            ...as('uma@example.com'),
          },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const name = await eventually(async () => /started (syncbased-[0-9a-f]{8})/.exec(stdout)?.[1], 30_000, 'the command to start');
      // Longer than the lease, renewed all along: the command is still running.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      expect(stdout).not.toContain('got SIGTERM');
      own.route('/syncbase-create', 'http://127.0.0.1:1'); // nothing listens there: every renewal gets the gateway's 502
      expect(await exited).toBe(75);
      expect(stdout).toContain('got SIGTERM');
      expect(stderr).toMatch(new RegExp(`could not renew the lease of ${name} \\(\\d+ s left\\): gateway: connect ECONNREFUSED`));
      expect(stderr).toMatch(
        new RegExp(
          `lost the lease of ${name}: no renewal succeeded for 6 s \\(the last: gateway: connect ECONNREFUSED .*\\), so the cleanup sweep may destroy it; stopping the command, exit status 75`,
        ),
      );
      expect(stderr).toContain(`destroying ${name}`);
      expect((await allocatorCli(['list'], as('uma@example.com'))).stdout).toBe('');
    } finally {
      await own.stop();
    }
  });

  it('gives up on an instance whose image does not exist as soon as its pods say so, and destroys it', async () => {
    // The same stack with a template whose pods fail to pull (a kwok stage keyed on the version), as another allocator.
    const runtime = makeCreateRuntime(
      loadConfig({
        ...stack.env,
        ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../../fixtures/templates/fails-with-version.json.hbs', import.meta.url)),
        ALLOCATOR_VERSION: 'ErrImagePull',
      }),
    );
    const served = await serveInProcess(runtime);
    try {
      for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/missing-image-${name}`, served.urls[name]);
      const created = await allocatorCli(['create', '--allocator', gateway.allocatorFor('missing-image')], as('vic@example.com'));
      expect(created.code).toBe(1);
      expect(created.stderr).toMatch(
        /allocator: create failed: instance syncbased-[0-9a-f]{8} cannot start: ErrImagePull: syncbased: rpc error: code = NotFound .*: not found/,
      );
      expect(created.stderr).toMatch(/cannot start: .*; it was removed \(400 FAILED_PRECONDITION\)/);
      expect((await allocatorCli(['list'], as('vic@example.com'))).stdout).toBe('');
      expect(served.violations).toEqual([]);
    } finally {
      await served.stop();
      await runtime.disks().close();
    }
  });

  it('suspends, resumes and resets an instance by name', async () => {
    const name = (await allocatorCli(['create'], as('lou@example.com'))).stdout.trim();
    expect(await allocatorCli(['suspend', name], as('lou@example.com'))).toMatchObject({ code: 0, stdout: `${name}: suspended\n` });
    const resumed = await allocatorCli(['resume', name], as('lou@example.com'));
    expect(resumed).toMatchObject({ code: 0, stdout: `${name}\n` });
    expect(resumed.stderr).toMatch(new RegExp(`${name}: Deployment sent to Kubernetes .*\\n(.*\\n)*${name}: ready \\(`));
    const reset = await allocatorCli(['reset', name, '--json'], as('lou@example.com'));
    expect(reset.code).toBe(0);
    expect(reset.stderr).toMatch(new RegExp(`${name}: pods stopped .*\\n${name}: disk ready .*\\n${name}: Deployment sent to Kubernetes`));
    expect(JSON.parse(reset.stdout)).toMatchObject({ name, state: 'ready' });
    expect(await allocatorCli(['suspend', 'syncbased-00000000'], as('lou@example.com'))).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/not found \(404 NOT_FOUND\)/),
    });
    expect((await allocatorCli(['destroy', name], as('lou@example.com'))).code).toBe(0);
  });

  it('runs a command against a fresh instance, exits with its status and leaves nothing behind', async () => {
    const run = await allocatorCli(
      [
        'run',
        '--',
        'sh',
        '-c',
        'test -n "$ALLOCATOR_INSTANCE_NAME" && test -n "$ALLOCATOR_INSTANCE_MOUNT_NAME" && echo "on $ALLOCATOR_INSTANCE_NAME" && exit 3',
      ],
      as('oz@example.com'),
    );
    expect(run.code).toBe(3);
    const name = /on (syncbased-[0-9a-f]{8})/.exec(run.stdout)?.[1];
    expect(name).toBeDefined();
    expect(run.stderr).toMatch(`destroying ${name}`);
    expect((await allocatorCli(['list'], as('oz@example.com'))).stdout).toBe('');
    expect(stack.emulator.disks().map((d) => d.name)).not.toContain(name);
  });
});

describe('allocator events', () => {
  it("prints what happened to the instance in plain lines, or with --json the allocator's answer; a stranger's is not found, exit 1", async () => {
    const created = await allocatorCli(['create'], as('oda@example.com'));
    expect(created.code).toBe(0);
    const name = created.stdout.trim();
    const printed = await eventually(async () => {
      const run = await allocatorCli(['events', name], as('oda@example.com'));
      return run.stdout.includes('Placed on node') ? run : undefined;
    });
    expect(printed.code).toBe(0);
    const lines = printed.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}instance {2}Scaled up to 1 pod$/),
      expect.stringMatching(/^\S+Z {2}instance {2}Made a new pod$/),
      expect.stringMatching(/^\S+Z {2}pod {7}Placed on node kwok-node-\d$/),
    ]);
    const json = JSON.parse((await allocatorCli(['events', name, '--json'], as('oda@example.com'))).stdout) as { reason: string }[];
    expect(json.map((event) => event.reason).slice(0, 3)).toEqual(['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled']);
    const stranger = await allocatorCli(['events', name], as('eve@example.com'));
    expect(stranger).toMatchObject({ code: 1, stderr: `allocator: events failed: instance ${name} not found (404 NOT_FOUND)\n` });
    expect(await allocatorCli(['events'], as('oda@example.com'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^allocator: events takes one instance name\n/),
    });
    expect((await allocatorCli(['destroy', name], as('oda@example.com'))).code).toBe(0);
  });
});

describe('share, unshare and transfer from the CLI', () => {
  it('shares, lists as shared with the other person, unshares and transfers, with --json and a 400 as one line', async () => {
    const name = (await allocatorCli(['create', '--no-wait'], as('noa@example.com'))).stdout.trim();
    expect(await allocatorCli(['share', name, 'oli@example.com', 'pia@example.com'], as('noa@example.com'))).toMatchObject({
      code: 0,
      stdout: `${name}: owned by noa@example.com, shared with oli@example.com, pia@example.com\n`,
    });
    const listed = await allocatorCli(['list', '-l'], as('oli@example.com'));
    expect(listed.stdout).toContain(`Name:       ${name}`);
    expect(listed.stdout).toContain('Owner:      noa@example.com (shared with you)');
    const unshared = await allocatorCli(['unshare', name, 'pia@example.com', '--json'], as('noa@example.com'));
    expect(JSON.parse(unshared.stdout)).toMatchObject({ name, collaborators: ['oli@example.com'] });
    expect(await allocatorCli(['share', name, 'noa@example.com'], as('noa@example.com'))).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/noa@example.com owns .* \(400 INVALID_ARGUMENT\)/),
    });
    expect(await allocatorCli(['share', name], as('noa@example.com'))).toMatchObject({ code: 2 });
    expect(await allocatorCli(['transfer', name, 'oli@example.com'], as('noa@example.com'))).toMatchObject({
      code: 0,
      stdout: `${name}: owned by oli@example.com\n`,
    });
    expect((await allocatorCli(['list'], as('noa@example.com'))).stdout).toBe('');
    expect((await allocatorCli(['list'], as('oli@example.com'))).stdout).toBe(`${name}\n`);
    expect((await allocatorCli(['destroy', name], as('oli@example.com'))).code).toBe(0);
  });
});
