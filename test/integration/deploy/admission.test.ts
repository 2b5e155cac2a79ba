import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Deployment,
  type V1Service,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load-config.ts';
import type { Instance } from '../../../shared/instances/instance.ts';
import { LABELS } from '../../../shared/instances/metadata.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import { RUNTIME_USER } from '../../harness/control-plane.ts';
import { ADMIN, call, diskNames, serveInProcess, startTestStack, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';
import { controlPlaneBinaries } from '../../harness/build.ts';

const MANIFESTS = fileURLToPath(new URL('../../../infra/k8s/manifests.sh', import.meta.url));
const POLICY = 'allocator-deployments';
const OBJECTS_POLICY = 'allocator-instance-objects';
const POSTGRES = fileURLToPath(new URL('../../../templates/postgres.yaml.hbs', import.meta.url));
const POSTGRES_PARAMETERS = fileURLToPath(new URL('../../../templates/postgres-parameters.yaml', import.meta.url));
const OTHER_SERVICE_ACCOUNT = fileURLToPath(new URL('../../fixtures/templates/other-service-account.json.hbs', import.meta.url));

let stack: TestStack;
let runtimeApps: AppsV1Api;
let runtimeCore: CoreV1Api;
/** What kubectl said on the first and the second apply. */
let applied: string[][];
beforeAll(async () => {
  // The allocator runs as the runtime account, with only what infra/k8s/ grants it, as in production.
  stack = await startTestStack({
    prefix: 'admission',
    overrides: { ALLOCATOR_KUBECONFIG: inject('runtimeKubeconfigPath'), ALLOCATOR_MAX_INSTANCES_PER_USER: '3' },
  });
  const runtime = new KubeConfig();
  runtime.loadFromFile(inject('runtimeKubeconfigPath'));
  runtimeApps = runtime.makeApiClient(AppsV1Api);
  runtimeCore = runtime.makeApiClient(CoreV1Api);
  applied = [applyManifests(), applyManifests()];
  // A binding takes effect at admission a moment after it is made: probe (a dry run) until a Deployment without labels is refused.
  await eventually(
    async () =>
      (
        await createAsRuntime(
          handMade('probe', (d) => delete d.metadata?.labels),
          'All',
        )
      ).code === 403,
    30_000,
    'the admission policy to be active',
  );
});
afterAll(async () => {
  // The policy and its binding are cluster-wide: the namespace's removal leaves them.
  const admission = stack?.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  for (const policy of [POLICY, OBJECTS_POLICY]) {
    await admission?.deleteValidatingAdmissionPolicyBinding({ name: `${policy}-${stack.namespace}` }).catch(() => undefined);
    await admission?.deleteValidatingAdmissionPolicy({ name: policy }).catch(() => undefined);
  }
  await stack?.stop();
});

/** infra/k8s/manifests.sh's output applied with kubectl (the control plane's own build) as the cluster's admin, as infra/setup.sh applies it. */
function applyManifests(): string[] {
  const rendered = spawnSync(MANIFESTS, ['--namespace', stack.namespace, '--runtime-account', RUNTIME_USER], { encoding: 'utf8' });
  if (rendered.status !== 0) throw new Error(`manifests.sh: ${rendered.stderr}`);
  const applied = spawnSync(controlPlaneBinaries().kubectl, ['apply', '-f', '-'], {
    input: rendered.stdout,
    env: { ...process.env, KUBECONFIG: inject('kubeconfigPath') },
    encoding: 'utf8',
  });
  if (applied.error) throw new Error(`kubectl apply: ${applied.error.message}`);
  if (applied.status !== 0) throw new Error(`kubectl apply: exit ${applied.status}\n${applied.stderr}`);
  return applied.stdout.trim().split('\n');
}

/** A Deployment as the allocator would make one, safe, for `change` to make unsafe. */
function handMade(name: string, change: (deployment: V1Deployment) => void = () => undefined): V1Deployment {
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { [LABELS.allocator]: 'syncbased', [LABELS.instance]: name } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { application: name } },
      template: {
        metadata: { labels: { application: name } },
        spec: { containers: [{ name: 'server', image: 'example.com/server:v1' }] },
      },
    },
  };
  change(deployment);
  return deployment;
}

/** What the API server answers the runtime account's create of `deployment`: 201, or the status and message of a refusal. */
async function createAsRuntime(deployment: V1Deployment, dryRun?: 'All'): Promise<{ code: number; message?: string }> {
  try {
    await runtimeApps.createNamespacedDeployment({ namespace: stack.namespace, body: deployment, ...(dryRun ? { dryRun } : {}) });
    return { code: 201 };
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as { message?: string };
    return { code: error.code, ...(body.message === undefined ? {} : { message: body.message }) };
  }
}

const refusal = (message: string) => ({
  code: 403,
  message: expect.stringMatching(
    new RegExp(`ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}-.*' denied request: ${message.replace(/[()]/g, '\\$&')}`),
  ),
});

type Answer = Instance & { error?: { code: number; status: string; message: string } };
const as = (email: string) => ({ token: stack.tokenFor(email) });

describe('the runtime account under the namespace, RBAC and admission policy of infra/k8s/', () => {
  it('applies them as infra/setup.sh does, and a second apply changes nothing', async () => {
    const [first, second] = applied;
    // The control plane's start made the definition already (test/harness/control-plane.ts), as it was written:
    // the first apply only adopts it, and the second finds it as applied.
    expect(first).toHaveLength(9);
    expect(first?.[0]).toMatch(/^customresourcedefinition.apiextensions.k8s.io\/instances.allocator.dev (configured|unchanged)$/);
    expect(second).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/instances.allocator.dev unchanged',
      `namespace/${stack.namespace} unchanged`,
      'role.rbac.authorization.k8s.io/allocator unchanged',
      'rolebinding.rbac.authorization.k8s.io/allocator unchanged',
      `validatingadmissionpolicy.admissionregistration.k8s.io/${POLICY} unchanged`,
      `validatingadmissionpolicy.admissionregistration.k8s.io/${OBJECTS_POLICY} unchanged`,
      'configmap/allocator-admission unchanged',
      `validatingadmissionpolicybinding.admissionregistration.k8s.io/${POLICY}-${stack.namespace} unchanged`,
      `validatingadmissionpolicybinding.admissionregistration.k8s.io/${OBJECTS_POLICY}-${stack.namespace} unchanged`,
    ]);
    const namespace = await stack.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: stack.namespace });
    expect(namespace.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });

  it("lets the allocator's own Deployments through: every operation it offers works", async () => {
    const created = await call<Answer>(stack.urls.create, { ...as('rob@example.com'), body: {} });
    expect({ status: created.status, error: created.body.error }).toEqual({ status: 201, error: undefined });
    const name = created.body.name;
    const pending = await call<Answer>(stack.urls.create, { ...as('rob@example.com'), body: { wait: false } });
    expect(pending.status).toBe(201);
    const listed = await call<{ instances: Answer[] }>(stack.urls.list, { ...as('rob@example.com'), method: 'GET' });
    expect(listed.body.instances.map((i) => i.name).sort()).toEqual([name, pending.body.name].sort());
    // Each of these patches the Deployment: an update the policy checks too.
    for (const [url, body] of [
      [`${stack.urls.destroy}/suspend`, { name }],
      [`${stack.urls.create}/resume`, { name }],
      [`${stack.urls.destroy}/reset`, { name }],
      [`${stack.urls.create}/extend`, { name, lifetimeSeconds: 600 }],
    ] as const) {
      const answer = await call<Answer>(url, { ...as('rob@example.com'), body });
      expect({ url, status: answer.status, error: answer.body.error }).toEqual({ url, status: 200, error: undefined });
    }
    const deployment = await stack.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: stack.namespace });
    expect(deployment.spec?.template.spec?.automountServiceAccountToken).toBe(false);
    const sweep = await call<{ failed: unknown[] }>(`${stack.urls.destroy}/sweep`, { ...as(ADMIN), body: { dryRun: false } });
    expect(sweep.body.failed).toEqual([]);
    for (const each of [name, pending.body.name])
      expect((await call(stack.urls.destroy, { ...as('rob@example.com'), body: { name: each } })).status).toBe(200);
  });

  it("answers a create whose template breaks the policy with the policy's message, and leaves nothing behind", async () => {
    // The same allocator with a template whose pods run as another service account than the params name.
    const runtime = makeCreateRuntime(loadConfig({ ...stack.env, ALLOCATOR_TEMPLATE: OTHER_SERVICE_ACCOUNT }));
    const served = await serveInProcess(runtime);
    try {
      const disks = diskNames(stack.emulator);
      const refused = await call<Answer>(served.urls.create, { ...as('rob@example.com'), body: {} });
      expect({ status: refused.status, message: refused.body.error?.message }).toEqual({
        status: 500,
        message: expect.stringMatching(
          /the cluster's admission refused it \(HTTP 403\): .*denied request: the allocator's runtime account may only run pods as the service account default, not deployer$/,
        ),
      });
      expect(diskNames(stack.emulator)).toEqual(disks);
    } finally {
      await served.stop();
      await runtime.disks().close();
    }
  });

  it.each([
    [
      'a privileged container',
      (d: V1Deployment) => (d.spec!.template.spec!.containers[0]!.securityContext = { privileged: true }),
      "the allocator's runtime account may not run privileged containers: server",
    ],
    [
      'a privileged init container',
      (d: V1Deployment) => (d.spec!.template.spec!.initContainers = [{ name: 'setup', image: 'i', securityContext: { privileged: true } }]),
      "the allocator's runtime account may not run privileged containers: setup",
    ],
    [
      'a hostPath volume',
      (d: V1Deployment) => (d.spec!.template.spec!.volumes = [{ name: 'root', hostPath: { path: '/' } }]),
      "the allocator's runtime account may not mount hostPath volumes: root",
    ],
    [
      "another instance's disk",
      (d: V1Deployment) =>
        (d.spec!.template.spec!.volumes = [
          { name: 'data-disk', gcePersistentDisk: { pdName: 'unsafe' } },
          { name: 'theirs', gcePersistentDisk: { pdName: 'syncbased-0badf00d' } },
        ]),
      "the allocator's runtime account may only mount the instance's own disk, unsafe, not syncbased-0badf00d",
    ],
    [
      "the node's network",
      (d: V1Deployment) => (d.spec!.template.spec!.hostNetwork = true),
      "the allocator's runtime account may not share the node's namespaces: hostNetwork",
    ],
    [
      "the node's PID and IPC namespaces",
      (d: V1Deployment) => Object.assign(d.spec!.template.spec!, { hostPID: true, hostIPC: true }),
      "the allocator's runtime account may not share the node's namespaces: hostPID, hostIPC",
    ],
    [
      'another service account',
      (d: V1Deployment) => (d.spec!.template.spec!.serviceAccountName = 'deployer'),
      "the allocator's runtime account may only run pods as the service account default, not deployer",
    ],
    [
      "no allocator's label",
      (d: V1Deployment) => delete d.metadata!.labels![LABELS.allocator],
      "the allocator's runtime account may only make Deployments that carry Allocator's labels (allocator.dev/allocator, allocator.dev/instance)",
    ],
  ])('refuses the runtime account a Deployment with %s', async (_label, change, message) => {
    expect(await createAsRuntime(handMade('unsafe', change))).toEqual(refusal(message));
  });

  it('lets the runtime account make the same Deployment without the unsafe part, and binds no one else', async () => {
    expect(await createAsRuntime(handMade('safe'))).toEqual({ code: 201 });
    // The admin is not the runtime account: the policy leaves its Deployments alone...
    const adminApps = stack.kubeConfig.makeApiClient(AppsV1Api);
    const unlabelled = handMade('admins', (d) => delete d.metadata?.labels);
    await adminApps.createNamespacedDeployment({ namespace: stack.namespace, body: unlabelled, dryRun: 'All' });
    // ...but Pod Security's baseline refuses even the admin a privileged pod in the namespace.
    const core = stack.kubeConfig.makeApiClient(CoreV1Api);
    const privileged = core.createNamespacedPod({
      namespace: stack.namespace,
      body: {
        metadata: { name: 'privileged' },
        spec: { containers: [{ name: 'c', image: 'i', securityContext: { privileged: true } }] },
      },
    });
    await expect(privileged).rejects.toMatchObject({
      code: 403,
      body: expect.stringMatching(/violates PodSecurity \\"baseline:latest\\": privileged/),
    });
  });
});

/** A Service as the allocator would make one for instance `name`, safe, for `change` to make unsafe. */
function handMadeService(name: string, change: (service: V1Service) => void = () => undefined): V1Service {
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { [LABELS.allocator]: 'syncbased', [LABELS.instance]: name } },
    spec: { selector: { application: name }, ports: [{ name: 'http', port: 80 }] },
  };
  change(service);
  return service;
}

/** What the API server answers the runtime account's `call` (a dry run): 201, or the status and message of a refusal. */
async function asRuntime(call: () => Promise<unknown>): Promise<{ code: number; message?: string }> {
  try {
    await call();
    return { code: 201 };
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as { message?: string };
    return { code: error.code, ...(body.message === undefined ? {} : { message: body.message }) };
  }
}
const objectsRefusal = (message: string) => ({
  code: 403,
  message: expect.stringMatching(
    new RegExp(
      `ValidatingAdmissionPolicy '${OBJECTS_POLICY}' with binding '${OBJECTS_POLICY}-.*' denied request: ${message.replace(/[()]/g, '\\$&')}`,
    ),
  ),
});

describe("the admission policy on the runtime account's Services and ConfigMaps", () => {
  it('lets the PostgreSQL sample make, list and delete its Service and ConfigMap', async () => {
    const runtime = makeCreateRuntime(
      loadConfig({ ...stack.env, ALLOCATOR_TEMPLATE: POSTGRES, ALLOCATOR_PARAMETERS: POSTGRES_PARAMETERS }),
    );
    const served = await serveInProcess(runtime);
    try {
      const created = await call<Answer>(served.urls.create, { ...as('pam@example.com'), body: {} });
      expect({ status: created.status, error: created.body.error }).toEqual({ status: 201, error: undefined });
      const { name } = created.body;
      expect(created.body.endpoints?.map((endpoint) => `${endpoint.host}:${endpoint.port}`)).toEqual([
        `${name}.${stack.namespace}.svc.cluster.local:5432`,
      ]);
      const listed = await call<{ instances: Answer[] }>(served.urls.list, { ...as('pam@example.com'), method: 'GET' });
      expect(listed.body.instances[0]?.endpoints).toEqual(created.body.endpoints);
      expect((await call(served.urls.destroy, { ...as('pam@example.com'), body: { name } })).status).toBe(200);
      const core = stack.kubeConfig.makeApiClient(CoreV1Api);
      const labelSelector = `${LABELS.instance}=${name}`;
      expect((await core.listNamespacedService({ namespace: stack.namespace, labelSelector })).items).toEqual([]);
      expect((await core.listNamespacedConfigMap({ namespace: stack.namespace, labelSelector })).items).toEqual([]);
    } finally {
      await served.stop();
      await runtime.disks().close();
    }
  });

  it.each([
    [
      'a NodePort Service',
      (s: V1Service) => (s.spec!.type = 'NodePort'),
      "the allocator's runtime account may only make ClusterIP Services, not NodePort unsafe",
    ],
    [
      'a LoadBalancer while the params refuse them',
      (s: V1Service) => {
        s.spec!.type = 'LoadBalancer';
        s.metadata!.annotations = { 'networking.gke.io/load-balancer-type': 'Internal' };
      },
      "the allocator's runtime account may only make ClusterIP Services, not LoadBalancer unsafe",
    ],
    [
      'external IPs',
      (s: V1Service) => (s.spec!.externalIPs = ['203.0.113.9']),
      "the allocator's runtime account may not make Services with externalIPs: unsafe",
    ],
    [
      "no allocator's label",
      (s: V1Service) => delete s.metadata!.labels![LABELS.instance],
      "the allocator's runtime account may only create Services and ConfigMaps that carry Allocator's labels (allocator.dev/allocator, allocator.dev/instance), not unsafe",
    ],
  ])('refuses the runtime account %s', async (_label, change, message) => {
    expect(
      await asRuntime(() =>
        runtimeCore.createNamespacedService({ namespace: stack.namespace, body: handMadeService('unsafe', change), dryRun: 'All' }),
      ),
    ).toEqual(objectsRefusal(message));
  });

  it("lets it make a ClusterIP Service with Allocator's labels, and never touch the policy's own params", async () => {
    expect(
      await asRuntime(() =>
        runtimeCore.createNamespacedService({ namespace: stack.namespace, body: handMadeService('safe'), dryRun: 'All' }),
      ),
    ).toEqual({
      code: 201,
    });
    expect(
      await asRuntime(() =>
        runtimeCore.deleteNamespacedConfigMap({ name: 'allocator-admission', namespace: stack.namespace, dryRun: 'All' }),
      ),
    ).toEqual(
      objectsRefusal(
        "the allocator's runtime account may only delete Services and ConfigMaps that carry Allocator's labels (allocator.dev/allocator, allocator.dev/instance), not allocator-admission",
      ),
    );
  });
});
