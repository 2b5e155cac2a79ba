import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, type V1ConfigMap, type V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load-config.ts';
import type { Instance } from '../../../shared/instances/instance.ts';
import { ownerHashOf } from '../../../shared/instances/naming.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { call, startTestStack, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TEMPLATE = fileURLToPath(new URL('../../../templates/postgres.yaml.hbs', import.meta.url));
const PARAMETERS = fileURLToPath(new URL('../../../templates/postgres-parameters.yaml', import.meta.url));
const NODE_PORT = fileURLToPath(new URL('../../fixtures/templates/nodeport-service.yaml.hbs', import.meta.url));
const OWNER = 'pat@example.com';

let stack: TestStack;
let gateway: Gateway;
let core: CoreV1Api;
const home = mkdtempSync(join(tmpdir(), 'allocator-postgres-home-'));
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'postgres',
    overrides: { ALLOCATOR_TEMPLATE: TEMPLATE, ALLOCATOR_PARAMETERS: PARAMETERS, ALLOCATOR_SERVER_NAME: 'postgres' },
  });
  gateway = await startGateway();
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/pg-${name}`, stack.urls[name]);
  core = stack.kubeConfig.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await gateway?.stop();
  await stack?.stop();
  rmSync(home, { recursive: true, force: true });
});

const token = (): string => stack.tokenFor(OWNER);
/** The instance's Services and ConfigMaps, as the API server has them. */
async function objectsOf(name: string): Promise<{ services: V1Service[]; configMaps: V1ConfigMap[] }> {
  const labelSelector = `allocator.dev/instance=${name}`;
  const [services, configMaps] = await Promise.all([
    core.listNamespacedService({ namespace: stack.namespace, labelSelector }),
    core.listNamespacedConfigMap({ namespace: stack.namespace, labelSelector }),
  ]);
  return { services: services.items, configMaps: configMaps.items };
}
const namesOf = (objects: { services: V1Service[]; configMaps: V1ConfigMap[] }) => ({
  services: objects.services.map((service) => service.metadata?.name),
  configMaps: objects.configMaps.map((configMap) => configMap.metadata?.name),
});

/** The CLI as a subprocess, through the gateway (the functions live in this process). */
async function allocatorCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
          ALLOCATOR: gateway.allocatorFor('pg'),
          ALLOCATOR_TOKEN: token(),
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the PostgreSQL sample against the real API server', () => {
  it('makes a Service and a ConfigMap owned by the record, answers the endpoint, and deletes both with the instance', async () => {
    const created = await call<Instance>(stack.urls.create, { token: token(), body: { parameters: { version: '16' } } });
    expect(created.status).toBe(201);
    const { name } = created.body;
    const host = `${name}.${stack.namespace}.svc.cluster.local`;
    expect(created.body.endpoints).toEqual([{ service: name, name: 'postgres', protocol: 'TCP', host, port: 5432 }]);
    console.log(`create answered ${name} with endpoints ${JSON.stringify(created.body.endpoints)}`);

    const objects = await objectsOf(name);
    expect(namesOf(objects)).toEqual({ services: [name], configMaps: [`${name}-config`] });
    const record = (await stack.kubeConfig
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ group: 'allocator.dev', version: 'v1', plural: 'instances', namespace: stack.namespace, name })) as {
      metadata: { uid: string };
    };
    for (const object of [...objects.services, ...objects.configMaps]) {
      expect(object.metadata?.labels).toMatchObject({ 'allocator.dev/allocator': 'postgres', 'allocator.dev/instance': name });
      expect(object.metadata?.ownerReferences).toEqual([
        { apiVersion: 'allocator.dev/v1', kind: 'Instance', name, uid: record.metadata.uid },
      ]);
    }
    expect(objects.services[0]?.spec?.type).toBe('ClusterIP');
    expect(objects.configMaps[0]?.data).toMatchObject({ POSTGRES_DB: 'test', ALLOCATOR_INSTANCE: name });

    const listed = await call<{ instances: Instance[] }>(stack.urls.list, { token: token(), method: 'GET' });
    expect(listed.body.instances.find((instance) => instance.name === name)?.endpoints).toEqual(created.body.endpoints);
    const long = await allocatorCli(['list', '-l']);
    expect(long.stdout).toContain(`Endpoint:   postgres/TCP ${host}:5432`);

    // Given to another: the Service and ConfigMap take her label with the Deployment, and her list has the endpoint.
    const other = 'quy@example.com';
    const transferred = await call(`${stack.urls.create}/transfer`, { token: token(), body: { name, to: other } });
    expect(transferred.status).toBe(200);
    for (const object of Object.values(await objectsOf(name)).flat())
      expect(object.metadata?.labels?.['allocator.dev/owner-hash']).toBe(ownerHashOf(other));
    const theirs = await call<{ instances: Instance[] }>(stack.urls.list, { token: stack.tokenFor(other), method: 'GET' });
    expect(theirs.body.instances.map((instance) => [instance.name, instance.endpoints])).toEqual([[name, created.body.endpoints]]);

    const destroyed = await call(stack.urls.destroy, { token: stack.tokenFor(other), method: 'DELETE', body: { name } });
    expect(destroyed.status).toBe(200);
    expect(namesOf(await objectsOf(name))).toEqual({ services: [], configMaps: [] });
  });

  it('puts the endpoint in the environment of `allocator run`, and the instance goes with its Service and ConfigMap', async () => {
    const run = await allocatorCli([
      'run',
      '--',
      'sh',
      '-c',
      'echo "$ALLOCATOR_INSTANCE_NAME $ALLOCATOR_ENDPOINT_POSTGRES_HOST $ALLOCATOR_ENDPOINT_POSTGRES_PORT"',
    ]);
    console.log(`allocator run printed: ${run.stdout.trim()}`);
    expect(run.code).toBe(0);
    const [name, host, port] = run.stdout.trim().split(' ');
    expect(name).toMatch(/^postgres-[0-9a-f]{8}$/);
    expect(host).toBe(`${name}.${stack.namespace}.svc.cluster.local`);
    expect(port).toBe('5432');
    expect(namesOf(await objectsOf(name!))).toEqual({ services: [], configMaps: [] });
  });

  it('lets the garbage collector delete them with the record, through the owner reference', { timeout: 150_000 }, async () => {
    const created = await call<Instance>(stack.urls.create, { token: token(), body: { wait: false } });
    const { name } = created.body;
    expect(namesOf(await objectsOf(name))).toEqual({ services: [name], configMaps: [`${name}-config`] });
    await stack.kubeConfig
      .makeApiClient(CustomObjectsApi)
      .deleteNamespacedCustomObject({ group: 'allocator.dev', version: 'v1', plural: 'instances', namespace: stack.namespace, name });
    await eventually(
      async () => {
        const left = await objectsOf(name);
        return left.services.length + left.configMaps.length === 0;
      },
      120_000,
      'the garbage collector to delete the Service and the ConfigMap',
    );
  });

  it('refuses at start a template that renders a NodePort Service, naming it', () => {
    expect(() => makeCreateRuntime(loadConfig({ ...stack.env, ALLOCATOR_TEMPLATE: NODE_PORT }))).toThrow(
      /nodeport-service.yaml.hbs: object 2 \(v1 Service "postgres-00000000-web"\) is a NodePort Service/,
    );
  });
});
