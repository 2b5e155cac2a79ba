import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../shared/errors.ts';
import { makeClusterClient, type ClusterClient } from '../../../shared/kube/cluster.ts';
import { newRecord } from '../../../shared/model/record.ts';
import { createTestNamespace, testKubeConfig } from '../support.ts';

let kubeConfig: KubeConfig;
let cluster: ClusterClient;
let remove: () => Promise<void>;

beforeAll(async () => {
  kubeConfig = testKubeConfig();
  const made = await createTestNamespace(kubeConfig, 'preconditions');
  remove = made.remove;
  cluster = makeClusterClient({ kubeConfig, namespace: made.namespace, timeoutMs: 10_000 });
});
afterAll(() => remove?.());

const deployment = (name: string): V1Deployment => ({
  metadata: { name },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'example.invalid/c:1' }] } },
  },
});

// What the destroy relies on instead of reading the instance again under its lock: the API server
// refuses a write that names an object replaced under the same name, and the client says so as a 409.
describe('ClusterClient uid preconditions, against the API server', () => {
  it('patches a Lease only while it is the object named; a replaced one is a 409, and keeps what it had', async () => {
    const first = await cluster.createLease({ metadata: { name: 'slot', labels: { holder: 'first' } }, spec: {} });
    await cluster.deleteLease('slot');
    const second = await cluster.createLease({ metadata: { name: 'slot', labels: { holder: 'second' } }, spec: {} });
    const patch = { metadata: { labels: { holder: null } } };
    await expect(cluster.patchLease('slot', patch, { uid: first.metadata!.uid! })).rejects.toThrow(ConflictError);
    expect((await cluster.readLease('slot'))?.metadata?.labels).toEqual({ holder: 'second' });
    await cluster.patchLease('slot', patch, { uid: second.metadata!.uid! });
    expect((await cluster.readLease('slot'))?.metadata?.labels).toBeUndefined();
    await expect(cluster.patchLease('gone', patch, { uid: first.metadata!.uid! })).rejects.toThrow(NotFoundError);
  });

  it('deletes a Deployment only while it is the object named: a 409 if replaced, a 404 if there is none', async () => {
    const first = await cluster.createDeployment(deployment('named'));
    const left = await cluster.deleteDeployment('named');
    if (left) await cluster.watchDeployment('named', left, 30_000, (state) => state === undefined);
    await expect(cluster.deleteDeployment('named', { uid: first.metadata!.uid! })).rejects.toThrow(NotFoundError);
    const second = await cluster.createDeployment(deployment('named'));
    await expect(cluster.deleteDeployment('named', { uid: first.metadata!.uid! })).rejects.toThrow(ConflictError);
    expect((await cluster.readDeployment('named'))?.metadata?.uid).toBe(second.metadata?.uid);
    // Still in the foreground: the Deployment stays, with the garbage collector's finalizer, until its dependents go.
    expect(await cluster.deleteDeployment('named', { uid: second.metadata!.uid! })).toMatchObject({ metadata: { name: 'named' } });
  });

  it('deletes a record only as read when given its resourceVersion: a 409 once it was written since (a waiter renewed it)', async () => {
    const spec = {
      owner: { email: 'ada@example.com' },
      collaborators: [],
      parameters: {},
      mountName: '/m',
      version: '1',
      createdAt: '2030-01-01T00:00:00.000Z',
      queue: { since: '2030-01-01T00:00:00.000Z', leaseSeconds: 20 },
      disk: { name: 'in-line', zone: 'us-central1-c' },
    };
    const made = await cluster.createRecord(newRecord({ serverName: 'sb', name: 'in-line', spec, phase: 'queued' }));
    expect(made.status.phase).toBe('queued'); // no status written yet: in line, by its spec
    const renewed = await cluster.replaceRecord(
      {
        ...made,
        status: { phase: 'queued', operation: { kind: 'create', holder: 'w', deadline: '2030-01-01T00:00:20.000Z', from: 'queued' } },
      },
      'status',
    );
    const asRead = { uid: made.metadata.uid!, resourceVersion: made.metadata.resourceVersion! };
    await expect(cluster.deleteRecord('in-line', asRead)).rejects.toThrow(ConflictError);
    expect((await cluster.readRecord('in-line'))?.status.operation?.holder).toBe('w');
    expect(await cluster.deleteRecord('in-line', { uid: renewed.metadata.uid!, resourceVersion: renewed.metadata.resourceVersion! })).toBe(
      true,
    );
    expect(await cluster.readRecord('in-line')).toBeUndefined();
  });
});
