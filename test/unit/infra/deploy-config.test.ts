import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GKE_NAMESPACE } from '../../../shared/config/load-config.ts';
import { parseServiceConfig } from '../../../shared/config/service-config.ts';
import { accessListOf } from '../../../shared/plans/deployment.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Step {
  id: string;
  name: string;
  entrypoint?: string;
  args: string[];
  waitFor?: string[];
}
const cloudbuild = load(readFileSync(`${ROOT}cloudbuild.yaml`, 'utf8')) as { substitutions: Record<string, string>; steps: Step[] };
const step = (id: string): Step => {
  const found = cloudbuild.steps.find((s) => s.id === id);
  if (!found) throw new Error(`no step ${id}`);
  return found;
};
const script = (id: string): string => step(id).args.join(' ');

describe('cloudbuild.yaml', () => {
  it('checks the code on Node 22 before anything is built', () => {
    for (const id of ['install', 'lint', 'typecheck', 'unit-tests', 'bundle']) expect(step(id).name).toBe('node:22');
    expect(step('install').args).toEqual(['ci']);
    expect(step('unit-tests').args).toEqual(['run', 'test:unit']);
    expect(step('bundle').waitFor).toEqual(['lint', 'typecheck', 'unit-tests']);
  });

  it.each(['create', 'destroy', 'list'])('deploys %s from its own bundle on nodejs22 as the runtime account', (fn) => {
    const deploy = script(`deploy-${fn}`);
    expect(deploy).toContain(`gcloud functions deploy \${_ALLOCATOR}-${fn} --gen2 --runtime=nodejs22`);
    expect(deploy).toContain(`--source=dist/functions/${fn} --entry-point=${fn} --trigger-http`);
    expect(deploy).toContain('--service-account=${_RUNTIME_SA}@${PROJECT_ID}.iam.gserviceaccount.com');
    // Only create gets the template setting; list gets its own V8 setting, at run time and at build time alike.
    const envFile = ({ create: 'create-env', destroy: 'env', list: 'list-env' } as Record<string, string>)[fn];
    expect(deploy).toContain(`--env-vars-file=dist/functions/${envFile}.yaml`);
    if (fn === 'list') expect(deploy).toContain('--build-env-vars-file=infra/function-env/list.yaml');
    else expect(deploy).not.toContain('--build-env-vars');
    // The build never sets who may invoke (it has no setIamPolicy): infra/grant-invokers.sh does, once.
    expect(deploy).not.toMatch(/allow-unauthenticated/);
    expect(deploy).toMatch(/--serve-all-traffic-latest-revision --quiet$/m); // a new function starts closed, without a prompt
    expect(step(`deploy-${fn}`).waitFor).toEqual(['environment']); // the three run in parallel
    // Many requests per instance: a create holds its request through the readiness wait. Above 1 needs a whole vCPU.
    expect(deploy).toMatch(/--memory=\d+Mi --cpu=1 --concurrency=\$\{_CONCURRENCY\}/);
  });

  it('serves more than one request per instance by default', () => {
    expect(Number(cloudbuild.substitutions._CONCURRENCY)).toBeGreaterThan(1);
  });

  it("targets the scheduler job at destroy's /sweep with an OIDC token of the scheduler's account", () => {
    const scheduler = script('scheduler');
    expect(scheduler).toContain('--uri=https://${_REGION}-${PROJECT_ID}.cloudfunctions.net/${_ALLOCATOR}-destroy/sweep');
    expect(scheduler).toContain('--oidc-service-account-email=${_SCHEDULER_SA}@${PROJECT_ID}.iam.gserviceaccount.com');
    expect(scheduler).toContain('--oidc-token-audience=https://${_REGION}-${PROJECT_ID}.cloudfunctions.net/${_ALLOCATOR}');
    expect(scheduler).toContain("--schedule='${_SCHEDULE}'");
    expect(scheduler).toMatch(/if gcloud scheduler jobs describe .*; then\n\s+verb=update headers=--update-headers=/); // create or update, each with its own header flag
  });

  it('puts the scheduler among the admins, the allocator URL among the audiences, and requires the allowed callers', () => {
    const environment = script('environment');
    expect(environment).toContain('admins="${_SCHEDULER_SA}@${PROJECT_ID}.iam.gserviceaccount.com"');
    expect(environment).toContain(
      'ALLOCATOR_AUDIENCES: "https://${_REGION}-${PROJECT_ID}.cloudfunctions.net/${_ALLOCATOR},32555940559.apps.googleusercontent.com"',
    );
    expect(environment).toContain('_ALLOWED_CALLERS is required with _AUTH_SHAPE=verify');
  });

  it('writes the access list as Vanadium blessing patterns by default, which the sample syncbased compares', () => {
    // The sample template's syncbased compares blessings: a bare email would lock its owner out.
    expect(cloudbuild.substitutions._TEMPLATE).toBe('templates/syncbased-deployment.json.hbs');
    expect(cloudbuild.substitutions._ACCESS_LIST_FORMAT).toBe('dev.v.io:u:{email}');
    // Written into the env file that all three functions read (create's adds only the template).
    const environment = script('environment');
    expect(environment).toMatch(/^ {0,8}ALLOCATOR_ACCESS_LIST_FORMAT: "\$\{_ACCESS_LIST_FORMAT\}"$/m);
    expect(environment.indexOf('ALLOCATOR_ACCESS_LIST_FORMAT')).toBeGreaterThan(environment.indexOf('cat > dist/functions/env.yaml <<EOF'));
    expect(environment.indexOf('ALLOCATOR_ACCESS_LIST_FORMAT')).toBeLessThan(environment.indexOf('\nEOF\n'));
    // And the functions' config takes the default as it stands, making each entry a blessing pattern.
    const config = parseServiceConfig({
      ALLOCATOR_SERVER_NAME: cloudbuild.substitutions._SERVER_NAME,
      ALLOCATOR_AUDIENCES: 'https://a.test',
      ALLOCATOR_ACCESS_LIST_FORMAT: cloudbuild.substitutions._ACCESS_LIST_FORMAT,
    });
    expect(accessListOf('ada@example.com', ['root@example.com'], config.accessListFormat)).toEqual([
      'dev.v.io:u:ada@example.com',
      'dev.v.io:u:root@example.com',
    ]);
  });

  it("looks the golden disks' source up before anything deploys, and passes it to all three functions", () => {
    expect(cloudbuild.substitutions).toMatchObject({ _DISK_SOURCE_SNAPSHOT: '', _DISK_SOURCE_IMAGE: '' });
    const check = script('disk-source-check');
    expect(step('disk-source-check').name).toBe('gcr.io/google.com/cloudsdktool/cloud-sdk:slim');
    expect(check).toContain('snapshots describe');
    expect(check).toContain('images describe-from-family');
    expect(check).toContain('gcloud compute "$${describe[@]}" --project="$$project"');
    // Every deploy waits for the environment, which waits for both checks.
    expect(step('environment').waitFor).toEqual(['image-check', 'disk-source-check']);
    for (const fn of ['create', 'destroy', 'list']) expect(step(`deploy-${fn}`).waitFor).toEqual(['environment']);
    const environment = script('environment');
    expect(environment).toMatch(/^ {0,8}ALLOCATOR_DISK_SOURCE_SNAPSHOT: "\$\{_DISK_SOURCE_SNAPSHOT\}"$/m);
    expect(environment).toMatch(/^ {0,8}ALLOCATOR_DISK_SOURCE_IMAGE: "\$\{_DISK_SOURCE_IMAGE\}"$/m);
    // The defaults, empty, leave the functions making empty disks.
    const config = parseServiceConfig({
      ALLOCATOR_SERVER_NAME: 'syncbased',
      ALLOCATOR_AUDIENCES: 'https://a.test',
      ALLOCATOR_DISK_SOURCE_SNAPSHOT: cloudbuild.substitutions._DISK_SOURCE_SNAPSHOT,
      ALLOCATOR_DISK_SOURCE_IMAGE: cloudbuild.substitutions._DISK_SOURCE_IMAGE,
    });
    expect(config.disk).toEqual({ sizeGb: 10, type: 'pd-standard' });
  });

  it("passes the disk pool's size to all three functions: create claims and refills, destroy's sweep tops up, list shows it", () => {
    expect(script('environment')).toMatch(/^ {0,8}ALLOCATOR_DISK_POOL_SIZE: "\$\{_DISK_POOL_SIZE\}"$/m);
    const config = parseServiceConfig({
      ALLOCATOR_SERVER_NAME: 'syncbased',
      ALLOCATOR_AUDIENCES: 'https://a.test',
      ALLOCATOR_DISK_POOL_SIZE: cloudbuild.substitutions._DISK_POOL_SIZE,
    });
    expect(config.diskPool).toEqual({ size: 2 });
  });

  it('bundles the parameter declarations, checks the images with their defaults, and names them to all three functions', () => {
    expect(cloudbuild.substitutions._PARAMETERS).toBe('');
    expect(step('bundle').args).toContain('--parameters=${_PARAMETERS}');
    expect(script('images')).toContain("template-images -- '${_TEMPLATE}' '${_VERSION}' '${_PARAMETERS}'");
    const environment = script('environment');
    expect(environment).toContain(`[ -z "\${_PARAMETERS}" ] || echo 'ALLOCATOR_PARAMETERS: "parameters.json"' >> dist/functions/env.yaml`);
    // Before create's own file is made from it: create gets them too.
    expect(environment.indexOf('ALLOCATOR_PARAMETERS')).toBeLessThan(environment.indexOf('create-env.yaml'));
  });

  it('deploys create with the timeout it tells create, which leaves a queued create room to wait', () => {
    expect(script('deploy-create')).toContain('--timeout=${_CREATE_TIMEOUT}s');
    expect(script('environment')).toContain(
      'echo "ALLOCATOR_CREATE_TIMEOUT_SECONDS: \\"${_CREATE_TIMEOUT}\\""; } > dist/functions/create-env.yaml',
    );
    const config = parseServiceConfig({
      ALLOCATOR_SERVER_NAME: 'syncbased',
      ALLOCATOR_AUDIENCES: 'https://a.test',
      ALLOCATOR_CREATE_TIMEOUT_SECONDS: cloudbuild.substitutions._CREATE_TIMEOUT,
    });
    expect(config.queue.requestBoundMs).toBeGreaterThan(0);
    expect(config.queue.requestBoundMs + config.waitTimeoutMs).toBeLessThan(Number(cloudbuild.substitutions._CREATE_TIMEOUT) * 1000);
  });

  it('has a substitution for every ${_NAME} it uses, and uses every one', () => {
    const text = readFileSync(`${ROOT}cloudbuild.yaml`, 'utf8').replace(/^#.*$/gm, '');
    const used = new Set([...text.matchAll(/\$\{(_[A-Z_]+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(cloudbuild.substitutions).sort());
    for (const key of ['_REGION', '_ALLOCATOR', '_VKUBE_CFG', '_TEMPLATE', '_RUNTIME_SA', '_SCHEDULER_SA', '_DASHBOARD_CLIENT_ID'])
      expect(cloudbuild.substitutions).toHaveProperty(key);
  });
});

const dryRun = (file: string, args: string[]): string =>
  execFileSync('bash', [`${ROOT}infra/${file}`, '--dry-run', ...args], { encoding: 'utf8' });

describe('infra scripts, dry run', () => {
  const setup = dryRun('setup.sh', ['--project', 'p1', '--zone', 'us-central1-c', '--cluster', 'c1', '--namespace', 'alloc']);
  const commands = setup.split('\n').filter((line) => line.startsWith('+ '));

  it("grant the runtime account cluster read, its own disks' rights by name and namespaced RBAC only", () => {
    expect(setup).toContain('+ gcloud iam service-accounts create allocator-runtime --project=p1');
    expect(setup).toContain('--member=serviceAccount:allocator-runtime@p1.iam.gserviceaccount.com --role=roles/container.clusterViewer');
    const runtimeDisks = commands.filter((line) =>
      line.includes('serviceAccount:allocator-runtime@p1.iam.gserviceaccount.com --role=projects/p1/roles/'),
    );
    expect(runtimeDisks).toEqual([
      // Whatever changes a disk: only disks named <server-name>-* in the zone.
      '+ gcloud projects add-iam-policy-binding p1 --member=serviceAccount:allocator-runtime@p1.iam.gserviceaccount.com --role=projects/p1/roles/allocatorServerDisks --condition=expression=resource.name.startsWith\\(\\"projects/p1/zones/us-central1-c/disks/syncbased-\\"\\)\\,title=allocator-disks-syncbased',
      // Listing and operations name no disk.
      '+ gcloud projects add-iam-policy-binding p1 --member=serviceAccount:allocator-runtime@p1.iam.gserviceaccount.com --role=projects/p1/roles/allocatorDisks --condition=None',
    ]);
    expect(commands).toContain(
      '+ gcloud iam roles create allocatorServerDisks --project=p1 --title=Allocator\\ instance\\ disks --permissions=compute.disks.create\\,compute.disks.delete\\,compute.disks.get\\,compute.disks.setLabels',
    );
    expect(commands).toContain(
      '+ gcloud iam roles create allocatorDisks --project=p1 --title=Allocator\\ disk\\ listing --permissions=compute.disks.list\\,compute.zoneOperations.get\\,compute.snapshots.useReadOnly\\,compute.images.useReadOnly',
    );
    expect(setup).toMatch(/#\s+resources: \[deployments\]\n#\s+verbs: \[get, list, watch, create, patch, delete\]/);
    expect(setup).toMatch(/#\s+resources: \[leases\]/);
    expect(setup).toMatch(/#\s+namespace: alloc\n/);
  });

  it('make the namespace with Pod Security labels and bind the admission policy to it and the runtime account', () => {
    expect(setup).toMatch(/#\s+name: alloc\n#\s+labels:\n#\s+pod-security.kubernetes.io\/enforce: baseline\n/);
    expect(setup).toMatch(/#\s+pod-security.kubernetes.io\/warn: restricted\n/);
    expect(setup).toMatch(/#\s+runtimeAccount: allocator-runtime@p1.iam.gserviceaccount.com\n#\s+serviceAccountName: default\n/);
    expect(setup).toMatch(/#\s+name: allocator-deployments-alloc\n/);
    expect(setup).toMatch(/#\s+kubernetes.io\/metadata.name: alloc\n/);
    expect(setup).not.toMatch(/NAMESPACE|RUNTIME_ACCOUNT|POD_SERVICE_ACCOUNT/);
    expect(commands.filter((line) => line.startsWith('+ kubectl'))).toEqual(['+ kubectl apply -f - (the manifests above)']);
  });

  it('apply the Instance custom resource definition first, as written, then the namespace and what is in it', () => {
    const manifests = execFileSync('bash', [`${ROOT}infra/k8s/manifests.sh`, '--namespace', 'alloc', '--runtime-account', 'r@p1'], {
      encoding: 'utf8',
    });
    const objects = loadAll(manifests).filter(Boolean) as { kind: string; metadata: { name: string; namespace?: string } }[];
    expect(objects.map(({ kind, metadata }) => `${kind}/${metadata.namespace ?? ''}/${metadata.name}`)).toEqual([
      'CustomResourceDefinition//instances.allocator.dev',
      'Namespace//alloc',
      'Role/alloc/allocator',
      'RoleBinding/alloc/allocator',
      'ValidatingAdmissionPolicy//allocator-deployments',
      'ValidatingAdmissionPolicy//allocator-instance-objects',
      'ConfigMap/alloc/allocator-admission',
      'ValidatingAdmissionPolicyBinding//allocator-deployments-alloc',
      'ValidatingAdmissionPolicyBinding//allocator-instance-objects-alloc',
    ]);
    expect(objects.find(({ kind }) => kind === 'ConfigMap')).toMatchObject({ data: { internalLoadBalancers: 'refuse' } });
    expect(objects[0]).toEqual(load(readFileSync(`${ROOT}infra/k8s/instance-crd.yaml`, 'utf8')));
    expect(setup).toMatch(/#\s+kind: CustomResourceDefinition\n#\s+metadata:\n#\s+name: instances.allocator.dev\n/);
  });

  it('default to the namespace the functions default to', () => {
    const bare = dryRun('setup.sh', ['--project', 'p1', '--zone', 'us-central1-c', '--cluster', 'c1']);
    expect(bare).toMatch(new RegExp(`#\\s+kind: Namespace\\n#\\s+metadata:\\n#\\s+name: ${DEFAULT_GKE_NAMESPACE}\\n`));
  });

  it('refuse a namespace or account that would not survive being written into the manifests', () => {
    const manifests = (args: string[]) => spawnSync('bash', [`${ROOT}infra/k8s/manifests.sh`, ...args], { encoding: 'utf8' });
    expect(manifests(['--namespace', 'a', '--runtime-account', 'r', '--internal-load-balancers', 'external'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--internal-load-balancers must be refuse or allow/),
    });
    expect(manifests(['--namespace', 'a/b', '--runtime-account', 'r'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--namespace must be a DNS label/),
    });
    expect(manifests(['--namespace', 'a', '--runtime-account', 'r&x'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--runtime-account must be a username/),
    });
    expect(manifests(['--namespace', 'a', '--runtime-account', 'r', '--pod-service-account', 'A B'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--pod-service-account must be a service account name/),
    });
  });

  it('give Cloud Build custom deploy and image-check roles without setIamPolicy, and actAs on the two Allocator accounts only', () => {
    const build = commands.filter((line) => line.includes('add-iam-policy-binding p1 --member=serviceAccount:BUILD_SERVICE_ACCOUNT'));
    expect(build.map((line) => /--role=(\S+)/.exec(line)?.[1])).toEqual([
      'roles/cloudbuild.builds.builder',
      'roles/logging.logWriter',
      'projects/p1/roles/allocatorDeploy',
      'projects/p1/roles/allocatorImageCheck',
    ]);
    for (const line of build) expect(line).toMatch(/ --condition=None$/);
    const permissions = (role: string): string[] =>
      (commands.find((line) => line.startsWith(`+ gcloud iam roles create ${role} `)) ?? '').replace(/^.*--permissions=/, '').split('\\,');
    expect(permissions('allocatorDeploy')).toEqual([
      'cloudfunctions.functions.create',
      'cloudfunctions.functions.get',
      'cloudfunctions.functions.update',
      'cloudfunctions.functions.sourceCodeSet',
      'cloudfunctions.operations.get',
      'cloudfunctions.runtimes.list',
      'run.services.get',
      'run.services.update',
      'cloudscheduler.jobs.create',
      'cloudscheduler.jobs.get',
      'cloudscheduler.jobs.update',
    ]);
    // What gcloud artifacts docker images describe calls, read only.
    expect(permissions('allocatorImageCheck')).toEqual([
      'artifactregistry.repositories.get',
      'artifactregistry.tags.get',
      'artifactregistry.versions.get',
      'serviceusage.services.get',
      'containeranalysis.occurrences.list',
      'compute.snapshots.get',
      'compute.images.get',
      'compute.images.getFromFamily',
    ]);
    expect(commands.join('\n')).not.toMatch(
      /setIamPolicy|roles\/run\.admin|roles\/cloudfunctions\.(developer|admin)|roles\/cloudscheduler\.admin/,
    );
    const actAs = commands.filter((line) => line.includes('roles/iam.serviceAccountUser'));
    expect(actAs).toHaveLength(2);
    for (const line of actAs)
      expect(line).toMatch(/^\+ gcloud iam service-accounts add-iam-policy-binding allocator-(runtime|scheduler)@p1/);
  });

  it('never grant broad roles or open anything to allUsers', () => {
    const invokers = dryRun('grant-invokers.sh', ['--project', 'p1', '--region', 'us-central1', '--users-group', 'testers@example.com']);
    for (const text of [setup, invokers]) {
      expect(text).not.toMatch(
        /allUsers|allAuthenticatedUsers|roles\/(owner|editor|container\.developer|container\.admin|compute\.admin|iam\.serviceAccountTokenCreator)\b/,
      );
    }
    expect(invokers.split('\n').filter((line) => line.startsWith('+ '))).toEqual([
      '+ gcloud functions add-invoker-policy-binding syncbase-allocator-create --project=p1 --region=us-central1 --member=group:testers@example.com',
      '+ gcloud functions add-invoker-policy-binding syncbase-allocator-destroy --project=p1 --region=us-central1 --member=group:testers@example.com',
      '+ gcloud functions add-invoker-policy-binding syncbase-allocator-list --project=p1 --region=us-central1 --member=group:testers@example.com',
      '+ gcloud functions add-invoker-policy-binding syncbase-allocator-destroy --project=p1 --region=us-central1 --member=serviceAccount:allocator-scheduler@p1.iam.gserviceaccount.com',
    ]);
  });

  it('open the functions to everyone only when asked, for the verify shape', () => {
    const open = dryRun('grant-invokers.sh', ['--project', 'p1', '--region', 'us-central1', '--public']);
    expect(open.split('\n').filter((line) => line.startsWith('+ '))).toEqual(
      ['create', 'destroy', 'list'].map(
        (fn) =>
          `+ gcloud functions add-invoker-policy-binding syncbase-allocator-${fn} --project=p1 --region=us-central1 --member=allUsers`,
      ),
    );
  });

  it.each([
    ['setup.sh', ['--dry-run'], /--project is required/],
    ['setup.sh', ['--dry-run', '--project', 'p', '--zone', 'z', '--cluster', 'c', '--server-name', 'Bad_Name'], /--server-name must be/],
    ['grant-invokers.sh', ['--dry-run', '--project', 'p', '--region', 'r'], /--users-group or --public is required/],
    [
      'grant-invokers.sh',
      ['--dry-run', '--project', 'p', '--region', 'r', '--public', '--users-group', 'g@example.com'],
      /exclude each other/,
    ],
  ])('%s refuses %j', (file, args, message) => {
    expect(() => execFileSync('bash', [`${ROOT}infra/${file}`, ...args], { stdio: 'pipe' })).toThrow(message);
  });
});

describe("the README's deploy commands", () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');

  it('asks for an email in every impersonated ID token, which the functions need', () => {
    const impersonated = readme
      .split('\n')
      .filter((line) => line.includes('print-identity-token') && line.includes('--impersonate-service-account'));
    expect(impersonated.length).toBeGreaterThan(0);
    for (const line of impersonated) expect(line).toContain('--include-email');
  });

  it("gives several allowed callers and admins through gcloud's alternate delimiter, which keeps their commas", () => {
    const example = /--substitutions='(\^;\^[^']+)'/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // gcloud topic escaping: ^D^ at the start makes D the separator instead of the comma.
    const [, delimiter = '', rest = ''] = /^\^(.)\^(.*)$/.exec(example!) ?? [];
    const values = Object.fromEntries(
      rest.split(delimiter).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    expect(values._ALLOWED_CALLERS?.split(',')).toHaveLength(2);
    expect(values._ADMINS?.split(',')).toHaveLength(2);
    for (const key of Object.keys(values)) expect(cloudbuild.substitutions).toHaveProperty(key);
  });
});
