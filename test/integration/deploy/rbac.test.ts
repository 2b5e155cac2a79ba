import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  ApiextensionsV1Api,
  AuthorizationV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Role,
  type V1RoleBinding,
} from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { RUNTIME_USER } from '../../harness/control-plane.ts';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import { ADMIN, call, serveInProcess, startTestStack, type TestStack } from '../stack.ts';
import { createTestNamespace, eventually } from '../support.ts';

const RBAC = fileURLToPath(new URL('../../../infra/k8s/rbac.yaml', import.meta.url));
const POSTGRES = fileURLToPath(new URL('../../../templates/postgres.yaml.hbs', import.meta.url));
const POSTGRES_PARAMETERS = fileURLToPath(new URL('../../../templates/postgres-parameters.yaml', import.meta.url));

let stack: TestStack;
beforeAll(async () => {
  // The allocator runs as a plain user with no rights but those infra/k8s/rbac.yaml grants, as in production.
  stack = await startTestStack({
    prefix: 'rbac',
    overrides: { ALLOCATOR_KUBECONFIG: inject('runtimeKubeconfigPath'), ALLOCATOR_MAX_INSTANCES_PER_USER: '3' },
  });
});
afterAll(async () => stack?.stop());

/** infra/k8s/rbac.yaml as infra/setup.sh applies it: the namespace and the runtime account filled in. Once per file. */
let applied: Promise<void> | undefined;
const applyRbac = (): Promise<void> => (applied ??= createRbac());
async function createRbac(): Promise<void> {
  const text = readFileSync(RBAC, 'utf8').replaceAll('NAMESPACE', stack.namespace).replaceAll('RUNTIME_ACCOUNT', RUNTIME_USER);
  const [role, binding] = loadAll(text) as [V1Role, V1RoleBinding];
  const rbac = stack.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: stack.namespace, body: role });
  await rbac.createNamespacedRoleBinding({ namespace: stack.namespace, body: binding });
}

type Answer = Instance & { error?: { code: number; status: string; message: string } };
const as = (email: string) => ({ token: stack.tokenFor(email) });

describe('the allocator with exactly the RBAC of infra/k8s/rbac.yaml', () => {
  it('is refused before the Role is bound, and says to check its RBAC', async () => {
    const refused = await call<Answer>(stack.urls.create, { ...as('rob@example.com'), body: {} });
    expect(refused.status).toBe(500);
    expect(refused.body.error?.message).toMatch(/not allowed to do this \(HTTP 403\); check its RBAC/);
  });

  it('does everything it offers once it is bound', async () => {
    await applyRbac();
    const created = await call<Answer>(stack.urls.create, { ...as('rob@example.com'), body: {} });
    expect(created.status).toBe(201);
    const name = created.body.name;
    const pending = await call<Answer>(stack.urls.create, { ...as('rob@example.com'), body: { wait: false } });
    expect(pending.status).toBe(201);
    // A list with an instance on its way up reads pods and events.
    const listed = await call<{ instances: Answer[] }>(stack.urls.list, { ...as('rob@example.com'), method: 'GET' });
    expect(listed.status).toBe(200);
    expect(listed.body.instances.map((i) => i.name).sort()).toEqual([name, pending.body.name].sort());
    // Its logs, which the list function streams from the pod's log subresource.
    const logs = await fetch(`${stack.urls.list}/logs?name=${name}`, {
      headers: { authorization: `Bearer ${stack.tokenFor('rob@example.com')}` },
    });
    expect({ status: logs.status, type: logs.headers.get('content-type') }).toEqual({ status: 200, type: 'text/plain; charset=utf-8' });
    await logs.text();
    // Its events, from its Deployment's, ReplicaSets', pods' and Services' (a list of each, then of each one's events).
    const events = await call<{ events: { reason: string }[] }>(`${stack.urls.list}/events`, {
      ...as('rob@example.com'),
      method: 'GET',
      query: `?name=${name}`,
    });
    expect(events.status).toBe(200);
    expect(events.body.events.map((event) => event.reason)).toContain('SuccessfulCreate');
    for (const [url, body] of [
      [`${stack.urls.destroy}/suspend`, { name }],
      [`${stack.urls.create}/resume`, { name }],
      [`${stack.urls.destroy}/reset`, { name }],
      [`${stack.urls.create}/extend`, { name, lifetimeSeconds: 600 }],
    ] as const) {
      const answer = await call<Answer>(url, { ...as('rob@example.com'), body });
      expect({ url, status: answer.status, error: answer.body.error }).toEqual({ url, status: 200, error: undefined });
    }
    const sweep = await call<{ failed: unknown[] }>(`${stack.urls.destroy}/sweep`, { ...as(ADMIN), body: { dryRun: false } });
    expect(sweep.status).toBe(200);
    expect(sweep.body.failed).toEqual([]);
    for (const each of [name, pending.body.name])
      expect((await call(stack.urls.destroy, { ...as('rob@example.com'), body: { name: each } })).status).toBe(200);
  });
});

const INSTANCES = { group: 'allocator.dev', version: 'v1', plural: 'instances' } as const;
const record = (name: string) => ({
  apiVersion: 'allocator.dev/v1',
  kind: 'Instance',
  metadata: { name },
  spec: {
    owner: { email: 'rob@example.com' },
    mountName: `/${name}`,
    version: '1',
    createdAt: '2030-01-01T00:00:00Z',
    disk: { name, zone: 'us-central1-c' },
  },
});

/** The HTTP status the API server answers `call` with: 200 or 201 as it said, or the refusal's. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe("the runtime account's rights on Instance records under infra/k8s/rbac.yaml", () => {
  let runtime: KubeConfig;
  let other: { namespace: string; remove: () => Promise<void> };
  beforeAll(async () => {
    runtime = new KubeConfig();
    runtime.loadFromFile(inject('runtimeKubeconfigPath'));
    other = await createTestNamespace(stack.kubeConfig, 'rbac-other');
    await applyRbac();
  });
  afterAll(async () => other?.remove());

  it('are exactly instances (get, list, watch, create, update, patch, delete) and instances/status (get, update, patch)', async () => {
    const review = await runtime.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({
      body: { spec: { namespace: stack.namespace } },
    });
    const rules = (review.status?.resourceRules ?? [])
      .filter((rule) => rule.apiGroups?.some((group) => group === 'allocator.dev' || group === '*'))
      .map((rule) => ({ apiGroups: rule.apiGroups, resources: rule.resources, verbs: rule.verbs }));
    expect(rules).toEqual([
      {
        apiGroups: ['allocator.dev'],
        resources: ['instances'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      },
      { apiGroups: ['allocator.dev'], resources: ['instances/status'], verbs: ['get', 'update', 'patch'] },
    ]);
  });

  it('may create, update, write the status of, list and delete instances in its namespace', async () => {
    const objects = runtime.makeApiClient(CustomObjectsApi);
    const namespace = stack.namespace;
    // A binding takes effect a moment after it is made.
    const made = (await eventually(
      async () =>
        await objects.createNamespacedCustomObject({ ...INSTANCES, namespace, body: record('runtime-made') }).catch((error: unknown) => {
          if (error instanceof ApiException && error.code === 403) return undefined;
          throw error;
        }),
      10_000,
      'the Role to let the runtime account create an instance',
    )) as ReturnType<typeof record> & { metadata: { resourceVersion: string } };
    const updated = (await objects.replaceNamespacedCustomObject({
      ...INSTANCES,
      namespace,
      name: 'runtime-made',
      body: { ...made, spec: { ...made.spec, replicas: 1 } },
    })) as typeof made;
    const withStatus = (await objects.replaceNamespacedCustomObjectStatus({
      ...INSTANCES,
      namespace,
      name: 'runtime-made',
      body: { ...updated, status: { phase: 'running' } },
    })) as typeof made & { status: unknown };
    expect(withStatus.status).toEqual({ phase: 'running' });
    const patched = await objects.patchNamespacedCustomObjectStatus({
      ...INSTANCES,
      namespace,
      name: 'runtime-made',
      body: [{ op: 'replace', path: '/status/phase', value: 'suspended' }],
    });
    expect(patched).toMatchObject({ spec: { replicas: 1 }, status: { phase: 'suspended' } });
    const listed = (await objects.listNamespacedCustomObject({ ...INSTANCES, namespace })) as { items: unknown[] };
    expect(listed.items).toHaveLength(1);
    expect(await statusOf(objects.deleteNamespacedCustomObject({ ...INSTANCES, namespace, name: 'runtime-made' }))).toBe(200);
  });

  it('may not touch instances in another namespace, nor change or delete the definition', async () => {
    const objects = runtime.makeApiClient(CustomObjectsApi);
    const namespace = other.namespace;
    await stack.kubeConfig
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({ ...INSTANCES, namespace, body: record('elsewhere') });
    expect({
      create: await statusOf(objects.createNamespacedCustomObject({ ...INSTANCES, namespace, body: record('intruder') })),
      get: await statusOf(objects.getNamespacedCustomObject({ ...INSTANCES, namespace, name: 'elsewhere' })),
      list: await statusOf(objects.listNamespacedCustomObject({ ...INSTANCES, namespace })),
      listEverywhere: await statusOf(objects.listClusterCustomObject(INSTANCES)),
      delete: await statusOf(objects.deleteNamespacedCustomObject({ ...INSTANCES, namespace, name: 'elsewhere' })),
    }).toEqual({ create: 403, get: 403, list: 403, listEverywhere: 403, delete: 403 });

    // A dry run, so that a wrong grant could not take the definition from the other tests: authorization comes first.
    const definitions = runtime.makeApiClient(ApiextensionsV1Api);
    const name = 'instances.allocator.dev';
    expect({
      get: await statusOf(definitions.readCustomResourceDefinition({ name })),
      patch: await statusOf(
        definitions.patchCustomResourceDefinition({
          name,
          body: [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }],
          dryRun: 'All',
        }),
      ),
      delete: await statusOf(definitions.deleteCustomResourceDefinition({ name, dryRun: 'All' })),
    }).toEqual({ get: 403, patch: 403, delete: 403 });
    const definition = await stack.kubeConfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name });
    expect(definition.metadata?.deletionTimestamp).toBeUndefined();
  });
});

/** The rules the runtime account holds in the namespace on resources `matching` picks, as the API server reviews them. */
async function runtimeRules(matching: (resource: string) => boolean) {
  const runtime = new KubeConfig();
  runtime.loadFromFile(inject('runtimeKubeconfigPath'));
  const review = await runtime.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({
    body: { spec: { namespace: stack.namespace } },
  });
  return (review.status?.resourceRules ?? [])
    .filter((rule) => rule.resources?.some(matching))
    .map((rule) => ({ apiGroups: rule.apiGroups, resources: rule.resources, verbs: rule.verbs }));
}

describe("the runtime account's rights on the instances' pods under infra/k8s/rbac.yaml", () => {
  beforeAll(applyRbac);

  it("are list and watch (a streamed wait watches its pods' steps), and no more", async () => {
    expect(await runtimeRules((resource) => resource === 'pods')).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    ]);
  });
});

describe("the runtime account's rights on the instances' Services and ConfigMaps under infra/k8s/rbac.yaml", () => {
  beforeAll(applyRbac);

  it('are exactly list, create, patch and delete', async () => {
    expect(await runtimeRules((resource) => resource === 'services' || resource === 'configmaps')).toEqual([
      { apiGroups: [''], resources: ['services', 'configmaps'], verbs: ['list', 'create', 'patch', 'delete'] },
    ]);
  });

  it('are enough for the PostgreSQL sample: create with its endpoint, list, transfer (which relabels them), destroy', async () => {
    const runtime = makeCreateRuntime(
      loadConfig({ ...stack.env, ALLOCATOR_TEMPLATE: POSTGRES, ALLOCATOR_PARAMETERS: POSTGRES_PARAMETERS }),
    );
    const served = await serveInProcess(runtime);
    try {
      const created = await eventually(
        async () => {
          const answer = await call<Answer>(served.urls.create, { ...as('pam@example.com'), body: {} });
          return answer.status === 201 ? answer : undefined;
        },
        10_000,
        'the Role to let the allocator create',
      );
      expect(created.body.endpoints).toHaveLength(1);
      const listed = await call<{ instances: Answer[] }>(served.urls.list, { ...as('pam@example.com'), method: 'GET' });
      expect(listed.body.instances.find((i) => i.name === created.body.name)?.endpoints).toEqual(created.body.endpoints);
      const transfer = { ...as('pam@example.com'), body: { name: created.body.name, to: 'pia@example.com' } };
      expect((await call(`${served.urls.create}/transfer`, transfer)).status).toBe(200);
      const theirs = await call<{ instances: Answer[] }>(served.urls.list, { ...as('pia@example.com'), method: 'GET' });
      expect(theirs.body.instances.find((i) => i.name === created.body.name)?.endpoints).toEqual(created.body.endpoints);
      expect((await call(served.urls.destroy, { ...as('pia@example.com'), body: { name: created.body.name } })).status).toBe(200);
    } finally {
      await served.stop();
      await runtime.disks().close();
    }
  });
});
