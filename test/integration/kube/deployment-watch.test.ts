import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAvailable } from '../../../shared/instances/instance.ts';
import { makeClusterClient, type ClusterClient } from '../../../shared/kube/cluster.ts';
import { createTestNamespace, testKubeConfig } from '../support.ts';

let kubeConfig: KubeConfig;
let cluster: ClusterClient;
let remove: () => Promise<void>;

beforeAll(async () => {
  kubeConfig = testKubeConfig();
  const made = await createTestNamespace(kubeConfig, 'watch');
  remove = made.remove;
  cluster = makeClusterClient({ kubeConfig, namespace: made.namespace, timeoutMs: 10_000 });
});
afterAll(() => remove?.());

const deployment = (name: string, replicas = 1): V1Deployment => ({
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'example.invalid/c:1' }] } },
  },
});
const available = (state: V1Deployment | undefined): boolean => state !== undefined && isAvailable(state);

describe('ClusterClient.watchDeployment, against the API server', () => {
  it('follows a Deployment from its first read to available, in one watch', async () => {
    const seen = await cluster.createDeployment(deployment('becomes-ready'));
    const state = await cluster.watchDeployment('becomes-ready', seen, 30_000, available);
    expect(available(state)).toBe(true);
    expect(Number(state!.metadata!.resourceVersion)).toBeGreaterThan(Number(seen.metadata!.resourceVersion));
  });

  it('sees a Deployment that does not exist yet come into being', async () => {
    const watching = cluster.watchDeployment('not-yet', undefined, 30_000, (state) => state !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cluster.createDeployment(deployment('not-yet', 0));
    expect((await watching)?.metadata?.name).toBe('not-yet');
  });

  it('sees a Deployment go, including a deletion between the read and the watch', async () => {
    const seen = await cluster.createDeployment(deployment('goes', 0));
    await cluster.deleteDeployment('goes');
    expect(await cluster.watchDeployment('goes', seen, 30_000, (state) => state === undefined)).toBeUndefined();
  });

  it('follows a foreground deletion from what the delete answered, to gone', async () => {
    const created = await cluster.createDeployment(deployment('deleted', 1));
    expect(available(await cluster.watchDeployment('deleted', created, 30_000, available))).toBe(true);
    // Its pods go first, so the delete answers the Deployment as it waits on them: a later version, to watch from.
    const left = await cluster.deleteDeployment('deleted');
    expect(left?.metadata?.name).toBe('deleted');
    expect(Number(left?.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata!.resourceVersion));
    expect(await cluster.watchDeployment('deleted', left, 30_000, (state) => state === undefined)).toBeUndefined();
    expect(await cluster.readDeployment('deleted')).toBeUndefined();
    expect(await cluster.deleteDeployment('deleted')).toBeUndefined();
  });

  it('answers the state as it stands when nothing changes within maxMs', async () => {
    const seen = await cluster.createDeployment(deployment('still', 0));
    const started = Date.now();
    const state = await cluster.watchDeployment('still', seen, 300, () => false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(state?.metadata?.name).toBe('still');
  });
});
