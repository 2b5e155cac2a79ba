import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { accessListOf } from '../../../shared/plans/deployment.ts';
import type { StandInState } from '../../harness/cloud-sdk/stand-in.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STAND_IN = fileURLToPath(new URL('../../harness/cloud-sdk/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'allocator-cloud-sdk-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Step {
  id: string;
  entrypoint?: string;
  args: string[];
}

/** The build's steps that run gcloud, in the order Cloud Build runs them. */
const STEPS = [
  'images',
  'image-check',
  'disk-source-check',
  'environment',
  'deploy-create',
  'deploy-destroy',
  'deploy-list',
  'audiences',
  'scheduler',
];

/** A directory laid out as Cloud Build's workspace: the repository (linked), and the bundles' directories. */
function buildDirectory(name: string): string {
  const dir = join(work, name);
  for (const fn of ['create', 'destroy', 'list']) mkdirSync(join(dir, 'dist', 'functions', fn), { recursive: true });
  for (const entry of ['package.json', 'node_modules', 'infra', 'templates']) symlinkSync(join(ROOT, entry), join(dir, entry));
  return dir;
}

/** Runs `script` with the stand-in as gcloud and kubectl; stops the test on a non-zero exit, with what it said. */
function bash(script: string, options: { state: string; cwd: string; args?: string[] }): string {
  const result = spawnSync('bash', ['-c', script, 'bash', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: `${STAND_IN}:${process.env.PATH}`, CLOUD_SDK_STANDIN_STATE: options.state, HOME: work },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`exit ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

const state = (file: string): StandInState => JSON.parse(readFileSync(file, 'utf8')) as StandInState;

/** A cloudbuild.yaml step's script as Cloud Build runs it: substitutions filled in, `$$` as `$`. */
function buildScript(id: string, substitutions: Record<string, string>): string {
  const build = load(readFileSync(join(ROOT, 'cloudbuild.yaml'), 'utf8')) as { substitutions: Record<string, string>; steps: Step[] };
  const step = build.steps.find((candidate) => candidate.id === id);
  if (!step || step.entrypoint !== 'bash') throw new Error(`no bash step ${id}`);
  const values: Record<string, string> = { ...build.substitutions, PROJECT_ID: 'my-project', ...substitutions };
  return (step.args.at(-1) ?? '').replace(/\$\{(\w+)\}/g, (_, key: string) => values[key] ?? '').replaceAll('$$', '$');
}

describe('the deploy files against a checked stand-in for gcloud and kubectl', () => {
  it('refuses what the real tools refuse: an unknown flag, a missing required flag, a wrong group', () => {
    const file = join(work, 'refusals.json');
    const refuse = (args: string[]) =>
      spawnSync(join(STAND_IN, 'gcloud'), args, { env: { ...process.env, CLOUD_SDK_STANDIN_STATE: file }, encoding: 'utf8' });
    expect(refuse(['scheduler', 'jobs', 'update', 'http', 'j', '--location=r', '--headers=A=b'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/unrecognized arguments: --headers/),
    });
    expect(refuse(['scheduler', 'jobs', 'create', 'http', 'j', '--location=r', '--uri=https://x'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/--schedule: Must be specified/),
    });
    expect(refuse(['scheduler', 'job', 'describe', 'j'])).toMatchObject({ status: 1, stderr: expect.stringMatching(/Invalid choice/) });
    // gcloud's iam_util: a condition needs a title, and a policy with conditions needs --condition on every add.
    const binding = ['projects', 'add-iam-policy-binding', 'p', '--member=user:a@example.com', '--role=roles/viewer'];
    expect(refuse([...binding, '--condition=expression=true'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/`title` are required keys/),
    });
    expect(refuse([...binding, '--condition=expression=true,title=t'])).toMatchObject({ status: 0 });
    expect(refuse(binding)).toMatchObject({ status: 1, stderr: expect.stringMatching(/Run the command again with `--condition=None`/) });
  });

  it('runs infra/setup.sh on a fresh project and again on the same project', () => {
    const file = join(work, 'setup.json');
    const setup = `${join(ROOT, 'infra/setup.sh')} --project my-project --zone us-central1-c --cluster test-instances --namespace allocator`;
    const first = bash(setup, { state: file, cwd: ROOT });
    const afterFirst = state(file);
    expect(afterFirst.serviceAccounts.sort()).toEqual([
      'allocator-runtime@my-project.iam.gserviceaccount.com',
      'allocator-scheduler@my-project.iam.gserviceaccount.com',
    ]);
    expect(afterFirst.namespaces).toContain('allocator');
    expect(afterFirst.objects).toEqual([
      'CustomResourceDefinition//instances.allocator.dev',
      'Namespace//allocator',
      'Role/allocator/allocator',
      'RoleBinding/allocator/allocator',
      'ValidatingAdmissionPolicy//allocator-deployments',
      'ValidatingAdmissionPolicy//allocator-instance-objects',
      'ConfigMap/allocator/allocator-admission',
      'ValidatingAdmissionPolicyBinding//allocator-deployments-allocator',
      'ValidatingAdmissionPolicyBinding//allocator-instance-objects-allocator',
    ]);
    // The build account is the project's default, asked of gcloud, and it may build.
    expect(afterFirst.bindings).toContain(
      'my-project serviceAccount:123456789012-compute@developer.gserviceaccount.com roles/cloudbuild.builds.builder',
    );
    expect(first).toMatch(/gcloud iam roles create allocatorDisks/);
    // Changing a disk: only the allocator's own, by name; listing and operations: no condition.
    expect(afterFirst.bindings).toContain(
      'my-project serviceAccount:allocator-runtime@my-project.iam.gserviceaccount.com projects/my-project/roles/allocatorServerDisks if allocator-disks-syncbased: resource.name.startsWith("projects/my-project/zones/us-central1-c/disks/syncbased-")',
    );
    expect(afterFirst.roles['my-project/allocatorServerDisks']).toEqual([
      'compute.disks.create',
      'compute.disks.delete',
      'compute.disks.get',
      'compute.disks.setLabels',
    ]);
    expect(afterFirst.roles['my-project/allocatorDisks']).toEqual([
      'compute.disks.list',
      'compute.zoneOperations.get',
      'compute.snapshots.useReadOnly',
      'compute.images.useReadOnly',
    ]);
    // The build deploys with its own roles, none of which may set an IAM policy.
    const build = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';
    expect(
      afterFirst.bindings.filter((binding) => binding.startsWith(`my-project ${build} `)).map((binding) => binding.split(' ')[2]),
    ).toEqual([
      'roles/cloudbuild.builds.builder',
      'roles/logging.logWriter',
      'projects/my-project/roles/allocatorDeploy',
      'projects/my-project/roles/allocatorImageCheck',
    ]);
    for (const role of ['allocatorDeploy', 'allocatorImageCheck'])
      expect(afterFirst.roles[`my-project/${role}`]?.filter((permission) => permission.endsWith('IamPolicy'))).toEqual([]);

    expect(Object.keys(afterFirst.metrics).sort()).toEqual([
      'allocator_create_latency',
      'allocator_request_failures',
      'allocator_server_errors',
      'allocator_sweep_expired',
      'allocator_sweep_orphans',
    ]);
    expect(Object.values(afterFirst.policies)).toEqual([expect.objectContaining({ displayName: 'Allocator: failed creates' })]);

    const second = bash(setup, { state: file, cwd: ROOT });
    expect(second).toMatch(/# allocator-runtime@my-project.iam.gserviceaccount.com exists/);
    expect(second).toMatch(/gcloud iam roles update allocatorDisks/);
    expect(second).toMatch(/gcloud logging metrics update allocator_create_latency/);
    expect(second).toMatch(/gcloud alpha monitoring policies update projects\/my-project\/alertPolicies\/1/);
    expect(second).toMatch(/validatingadmissionpolicybinding\/allocator-deployments-allocator unchanged/);
    expect(state(file).objects).toEqual(afterFirst.objects);
    expect(state(file).bindings).toEqual(afterFirst.bindings);
    expect(Object.keys(state(file).policies)).toHaveLength(1);
  });

  it('takes back the project-wide roles an earlier setup.sh gave the build, once', () => {
    const file = join(work, 'upgrade.json');
    const build = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';
    const earlier = ['roles/artifactregistry.reader', 'roles/cloudfunctions.developer', 'roles/run.admin', 'roles/cloudscheduler.admin'];
    for (const role of earlier)
      bash(`gcloud projects add-iam-policy-binding my-project --member=${build} --role=${role}`, { state: file, cwd: ROOT });
    const setup = `${join(ROOT, 'infra/setup.sh')} --project my-project --zone us-central1-c --cluster test-instances --server-name sb`;
    const first = bash(setup, { state: file, cwd: ROOT });
    for (const role of earlier)
      expect(first).toContain(`+ gcloud projects remove-iam-policy-binding my-project --member=${build} --role=${role} --condition=None`);
    expect(state(file).bindings.filter((binding) => earlier.some((role) => binding.endsWith(` ${role}`)))).toEqual([]);
    expect(state(file).bindings.some((binding) => binding.includes('disks/sb-")'))).toBe(true);
    expect(bash(setup, { state: file, cwd: ROOT })).not.toMatch(/remove-iam-policy-binding/);
  });

  it("deploys the build twice, and the second deploy updates the sweep's job and takes back traffic from a rollback", () => {
    const file = join(work, 'deploy.json');
    const cwd = buildDirectory('build');
    const substitutions = { _ALLOWED_CALLERS: '*@example.com', _DASHBOARD_CLIENT_ID: '123-abc.apps.googleusercontent.com' };
    const deploy = (): void => {
      for (const id of STEPS) bash(buildScript(id, substitutions), { state: file, cwd });
    };
    // The sample template's image is a placeholder: the build stops before it deploys anything.
    expect(deploy).toThrow(/the template's image us-docker.pkg.dev\/YOUR-PROJECT\/YOUR-REPOSITORY\/syncbased:latest cannot be read/);
    expect(state(file).functions).toEqual({});
    const seeded = state(file);
    seeded.images = ['us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:latest'];
    writeFileSync(file, JSON.stringify(seeded));

    deploy();
    expect(state(file).jobs['us-central1/syncbase-allocator-sweep']).toMatchObject({
      '--headers': 'Content-Type=application/json',
      '--message-body': '{"dryRun": false}',
    });
    // The README's rollback pins a revision...
    bash(
      'gcloud run services update-traffic syncbase-allocator-list --region=us-central1 --to-revisions=syncbase-allocator-list-00001=100',
      { state: file, cwd },
    );
    expect(state(file).functions['us-central1/syncbase-allocator-list']?.traffic).toBe(1);

    deploy();
    const after = state(file);
    expect(after.jobs['us-central1/syncbase-allocator-sweep']).toMatchObject({ '--update-headers': 'Content-Type=application/json' });
    for (const fn of ['create', 'destroy', 'list'])
      expect(after.functions[`us-central1/syncbase-allocator-${fn}`]).toMatchObject({ revisions: 2, traffic: 'latest' });
    expect(after.functions['us-central1/syncbase-allocator-create']?.env).toBe('dist/functions/create-env.yaml');
    expect(after.functions['us-central1/syncbase-allocator-list']).toMatchObject({
      env: 'dist/functions/list-env.yaml',
      buildEnv: 'infra/function-env/list.yaml',
    });
    // list's file is the shared one and its own, each key once.
    const listEnv = load(readFileSync(join(cwd, 'dist/functions/list-env.yaml'), 'utf8')) as Record<string, string>;
    expect(listEnv).toEqual({
      ...(load(readFileSync(join(cwd, 'dist/functions/env.yaml'), 'utf8')) as Record<string, string>),
      ...(load(readFileSync(join(ROOT, 'infra/function-env/list.yaml'), 'utf8')) as Record<string, string>),
    });
    expect(readFileSync(join(cwd, 'dist/functions/env.yaml'), 'utf8')).toMatch(
      /ALLOCATOR_DASHBOARD_CLIENT_ID: "123-abc.apps.googleusercontent.com"/,
    );
  });

  it.each([
    [
      'a snapshot by partial path',
      { _DISK_SOURCE_SNAPSHOT: 'global/snapshots/golden' },
      { computeSnapshots: ['my-project/golden'] },
      'gcloud compute snapshots describe golden --project=my-project --format=value(selfLink)',
      /_DISK_SOURCE_SNAPSHOT names global\/snapshots\/golden, which cannot be read/,
    ],
    [
      'an image family in another project',
      { _DISK_SOURCE_IMAGE: 'https://www.googleapis.com/compute/v1/projects/images-project/global/images/family/golden' },
      { computeImages: ['images-project/golden-v2 golden'] },
      'gcloud compute images describe-from-family golden --project=images-project --format=value(selfLink)',
      /_DISK_SOURCE_IMAGE names .*family\/golden, which cannot be read/,
    ],
    [
      'an image',
      { _DISK_SOURCE_IMAGE: 'projects/images-project/global/images/golden-v2' },
      { computeImages: ['images-project/golden-v2 golden'] },
      'gcloud compute images describe golden-v2 --project=images-project --format=value(selfLink)',
      /_DISK_SOURCE_IMAGE names projects\/images-project\/global\/images\/golden-v2, which cannot be read/,
    ],
  ])("looks up the golden disks' source, %s: a missing one stops the build before it deploys", (label, source, held, lookup, refusal) => {
    const file = join(work, `source-${label.replaceAll(' ', '-')}.json`);
    const cwd = buildDirectory(`source-${label.replaceAll(' ', '-')}`);
    bash('gcloud projects describe my-project', { state: file, cwd }); // a fresh project's state, whose image exists
    writeFileSync(file, JSON.stringify({ ...state(file), images: ['us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:latest'] }));
    const substitutions = { _ALLOWED_CALLERS: '*@example.com', ...source };
    const deploy = (): void => {
      for (const id of STEPS) bash(buildScript(id, substitutions), { state: file, cwd });
    };
    expect(deploy).toThrow(refusal);
    expect(state(file).functions).toEqual({});
    expect(state(file).calls).toContain(lookup);

    writeFileSync(file, JSON.stringify({ ...state(file), ...held }));
    deploy();
    expect(Object.keys(state(file).functions)).toHaveLength(3);
    const env = load(readFileSync(join(cwd, 'dist/functions/env.yaml'), 'utf8')) as Record<string, string>;
    const config = loadConfig({ ...env, ALLOCATOR_VKUBE_CFG: join(ROOT, 'infra/vkube.cfg.example') }, cwd);
    expect(config.disk.source).toEqual(
      '_DISK_SOURCE_SNAPSHOT' in source
        ? { snapshot: source._DISK_SOURCE_SNAPSHOT, setting: 'ALLOCATOR_DISK_SOURCE_SNAPSHOT' }
        : { image: source._DISK_SOURCE_IMAGE, setting: 'ALLOCATOR_DISK_SOURCE_IMAGE' },
    );
  });

  it.each([
    [
      { _DISK_SOURCE_SNAPSHOT: 'global/snapshots/a', _DISK_SOURCE_IMAGE: 'global/images/b' },
      /set at most one of _DISK_SOURCE_SNAPSHOT and _DISK_SOURCE_IMAGE/,
    ],
    [
      { _DISK_SOURCE_SNAPSHOT: 'projects/p/global/images/b' },
      /_DISK_SOURCE_SNAPSHOT must be a Compute Engine resource URL or partial path/,
    ],
  ])('refuses the source %j before looking anything up', (source, refusal) => {
    const file = join(work, 'source-refused.json');
    expect(() => bash(buildScript('disk-source-check', source), { state: file, cwd: ROOT })).toThrow(refusal);
  });

  it.each([
    ['the default', {}, ['dev.v.io:u:ada@example.com', 'dev.v.io:u:allocator-scheduler@my-project.iam.gserviceaccount.com']],
    [
      '_ACCESS_LIST_FORMAT={email}',
      { _ACCESS_LIST_FORMAT: '{email}' },
      ['ada@example.com', 'allocator-scheduler@my-project.iam.gserviceaccount.com'],
    ],
  ])('gives all three functions the access-list format of %s, which their config takes', (_label, format, accessList) => {
    const cwd = buildDirectory(`access-list-${Object.keys(format).length}`);
    bash(buildScript('environment', { _ALLOWED_CALLERS: '*@example.com', ...format }), { state: join(work, 'access-list.json'), cwd });
    for (const file of ['env.yaml', 'create-env.yaml', 'list-env.yaml']) {
      // As Cloud Run sets them: each key of the env-vars file an environment variable.
      const env = load(readFileSync(join(cwd, 'dist/functions', file), 'utf8')) as Record<string, string>;
      const config = loadConfig({ ...env, ALLOCATOR_VKUBE_CFG: join(ROOT, 'infra/vkube.cfg.example') }, cwd);
      expect({ file, accessList: accessListOf('ada@example.com', config.admins, config.accessListFormat) }).toEqual({ file, accessList });
    }
  });
});
