import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { controlPlaneBinaries } from '../../harness/build.ts';
import { createTestNamespace, testKubeConfig } from '../support.ts';

// infra/k8s/instance-crd.yaml as the control plane's start installs it, and as infra/setup.sh applies it.
const CRD = fileURLToPath(new URL('../../../infra/k8s/instance-crd.yaml', import.meta.url));
const definition = load(readFileSync(CRD, 'utf8')) as V1CustomResourceDefinition;
const resource = {
  group: definition.spec.group,
  version: definition.spec.versions[0]!.name,
  plural: definition.spec.names.plural,
};

interface InstanceObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; resourceVersion?: string };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

let kubeConfig: KubeConfig;
let objects: CustomObjectsApi;
let namespace: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  kubeConfig = testKubeConfig();
  objects = kubeConfig.makeApiClient(CustomObjectsApi);
  ({ namespace, remove } = await createTestNamespace(kubeConfig, 'instance-crd'));
});
afterAll(() => remove?.());

const instance = (name: string, spec: Record<string, unknown> = {}): InstanceObject => ({
  apiVersion: `${resource.group}/${resource.version}`,
  kind: definition.spec.names.kind,
  metadata: { name },
  spec: {
    owner: { email: 'ada@example.com' },
    mountName: `/${name}`,
    version: '1',
    createdAt: '2030-01-01T00:00:00Z',
    expiresAt: '2030-01-01T01:00:00Z',
    disk: { name, zone: 'us-central1-c' },
    ...spec,
  },
});

const create = async (body: InstanceObject): Promise<InstanceObject> =>
  (await objects.createNamespacedCustomObject({ ...resource, namespace, body })) as InstanceObject;
const read = async (name: string): Promise<InstanceObject> =>
  (await objects.getNamespacedCustomObject({ ...resource, namespace, name })) as InstanceObject;
const replace = async (body: InstanceObject): Promise<InstanceObject> =>
  (await objects.replaceNamespacedCustomObject({ ...resource, namespace, name: body.metadata.name, body })) as InstanceObject;
const replaceStatus = async (body: InstanceObject): Promise<InstanceObject> =>
  (await objects.replaceNamespacedCustomObjectStatus({ ...resource, namespace, name: body.metadata.name, body })) as InstanceObject;

/** What kubectl (the control plane's own build) prints, as the cluster's admin; fails the test on an error. */
function kubectl(args: string[]): string {
  const ran = spawnSync(controlPlaneBinaries().kubectl, args, {
    env: { ...process.env, KUBECONFIG: inject('kubeconfigPath') },
    encoding: 'utf8',
  });
  expect({ status: ran.status, stderr: ran.stderr }).toEqual({ status: 0, stderr: '' });
  return ran.stdout;
}

/** The status and message the API server refused `call` with; fails the test if it succeeded. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error: unknown = await call.then(
    () => new Error('the API server accepted it'),
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ApiException)) throw error;
  const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as { message?: string };
  return { code: error.code, message: body.message ?? '' };
}

describe('the Instance custom resource on the API server', () => {
  it('is established and served in every namespace as written, with its status as a subresource', async () => {
    const installed = await kubeConfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: definition.metadata!.name! });
    expect(installed.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    expect(installed.spec.versions.map((v) => ({ name: v.name, served: v.served, status: v.subresources?.status }))).toEqual([
      { name: 'v1', served: true, status: {} },
    ]);
    // Read as JSON, past client-node's models: every field of the file reached the API server, enums included.
    const served = JSON.parse(kubectl(['get', 'customresourcedefinition', definition.metadata!.name!, '-o', 'json'])) as {
      spec: V1CustomResourceDefinition['spec'];
    };
    const { spec: written } = load(readFileSync(CRD, 'utf8')) as { spec: V1CustomResourceDefinition['spec'] };
    expect({ names: served.spec.names, versions: served.spec.versions }).toEqual({ names: written.names, versions: written.versions });
    const listed = (await objects.listNamespacedCustomObject({ ...resource, namespace })) as { kind: string; items: unknown[] };
    expect(listed).toMatchObject({ kind: 'InstanceList', items: [] });
  });

  it.each([
    ['no owner', { owner: undefined }, /spec.owner: Required value/],
    ['an owner without an email', { owner: { subject: '123' } }, /spec.owner.email: Required value/],
    ['no disk', { disk: undefined }, /spec.disk: Required value/],
    ['a createdAt that is no time', { createdAt: 'tomorrow' }, /spec.createdAt: Invalid value/],
  ])('refuses to create an instance with %s (422)', async (_what, spec, message) => {
    const made = instance('bad-spec', spec);
    expect(await refusal(create(made))).toEqual({ code: 422, message: expect.stringMatching(message) });
  });

  it("keeps a queued create's place in spec.queue, and refuses one without its lease time (422)", async () => {
    const queue = { since: '2030-01-01T00:00:00.123Z', leaseSeconds: 20, timeoutAt: '2030-01-01T00:10:00.123Z' };
    expect((await create(instance('queued', { queue }))).spec.queue).toEqual(queue);
    const noLease = await refusal(create(instance('queued-bad', { queue: { since: queue.since } })));
    expect(noLease).toEqual({ code: 422, message: expect.stringMatching(/spec.queue.leaseSeconds: Required value/) });
  });

  it('refuses a phase it does not know, or an operation without its holder (422)', async () => {
    const made = await create(instance('bad-status'));
    const badPhase = await refusal(replaceStatus({ ...made, status: { phase: 'sleeping' } }));
    expect(badPhase).toEqual({ code: 422, message: expect.stringMatching(/status.phase: Unsupported value: "sleeping"/) });
    const noHolder = { phase: 'running', operation: { kind: 'extend', deadline: '2030-01-01T00:00:00Z', from: 'running' } };
    const badOperation = await refusal(replaceStatus({ ...made, status: noHolder }));
    expect(badOperation).toEqual({ code: 422, message: expect.stringMatching(/status.operation.holder: Required value/) });
    expect((await read('bad-status')).status).toBeUndefined();
  });

  it('writes status only through /status, and spec only through the instance', async () => {
    // A create's status is dropped: status is the allocator's to write, after the record exists.
    const made = await create({ ...instance('subresource'), status: { phase: 'running' } });
    expect(made.status).toBeUndefined();

    const updated = await replace({ ...made, spec: { ...made.spec, replicas: 2 }, status: { phase: 'suspended' } });
    expect(updated.spec.replicas).toBe(2);
    expect(updated.status).toBeUndefined();

    const operation = { kind: 'create', holder: 'create-1', deadline: '2030-01-01T00:05:00Z', from: 'queued' };
    const withStatus = await replaceStatus({
      ...updated,
      spec: { ...updated.spec, replicas: 0 },
      status: { phase: 'provisioning', operation },
    });
    expect(withStatus.status).toEqual({ phase: 'provisioning', operation });
    expect(withStatus.spec.replicas).toBe(2);
    expect(await read('subresource')).toMatchObject({ spec: { replicas: 2 }, status: { phase: 'provisioning', operation } });
  });

  it('refuses an update or a status update on a stale resourceVersion (409), and takes it on the current one', async () => {
    const made = await create(instance('conflict'));
    const first = await replace({ ...made, spec: { ...made.spec, replicas: 1 } });
    expect(first.metadata.resourceVersion).not.toBe(made.metadata.resourceVersion);

    const stale = await refusal(replace({ ...made, spec: { ...made.spec, replicas: 3 } }));
    expect(stale).toEqual({ code: 409, message: expect.stringMatching(/the object has been modified/) });
    const staleStatus = await refusal(replaceStatus({ ...made, status: { phase: 'running' } }));
    expect(staleStatus).toEqual({ code: 409, message: expect.stringMatching(/the object has been modified/) });
    expect(await read('conflict')).toMatchObject({ spec: { replicas: 1 }, metadata: { resourceVersion: first.metadata.resourceVersion } });

    const second = await replaceStatus({ ...first, status: { phase: 'running' } });
    expect(second.status).toEqual({ phase: 'running' });
  });

  it("shows each instance's owner, phase, operation, expiry and age in kubectl get", async () => {
    const made = await create(instance('printed', { owner: { email: 'bea@example.com' }, expiresAt: '2031-02-03T04:05:06Z' }));
    await replaceStatus({
      ...made,
      status: { phase: 'running', operation: { kind: 'extend', holder: 'h', deadline: '2031-01-01T00:00:00Z', from: 'running' } },
    });

    const [header, row, ...rest] = kubectl(['get', 'instances', '-n', namespace, 'printed'])
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    expect(header).toEqual(['NAME', 'OWNER', 'PHASE', 'OPERATION', 'EXPIRES', 'AGE']);
    expect(row).toEqual(['printed', 'bea@example.com', 'running', 'extend', '2031-02-03T04:05:06Z', expect.stringMatching(/^\d+s$/)]);
    expect(rest).toEqual([]);
  });
});
