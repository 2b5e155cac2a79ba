import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, eventually, testKubeConfig } from '../support.ts';

const kubeConfig = testKubeConfig();
const apps = kubeConfig.makeApiClient(AppsV1Api);
const core = kubeConfig.makeApiClient(CoreV1Api);
let namespace = '';
let removeNamespace = async (): Promise<void> => undefined;

beforeAll(async () => {
  ({ namespace, remove: removeNamespace } = await createTestNamespace(kubeConfig, 'harness'));
});
afterAll(async () => removeNamespace());

function deployment(name: string, labels: Record<string, string> = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name, ...labels } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: 'registry.invalid/never-pulled:1' }] },
      },
    },
  };
}

describe('local control plane', () => {
  it('runs an apps/v1 Deployment until kwok makes its pod available', async () => {
    await apps.createNamespacedDeployment({ namespace, body: deployment('available') });
    const available = await eventually(
      async () => {
        const current = await apps.readNamespacedDeployment({ name: 'available', namespace });
        return current.status?.availableReplicas === 1 ? current : undefined;
      },
      60_000,
      'availableReplicas 1',
    );
    expect(available.status?.readyReplicas).toBe(1);
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=available' });
    expect(pods.items).toHaveLength(1);
    expect(pods.items[0]?.status?.phase).toBe('Running');
    expect(['kwok-node-0', 'kwok-node-1']).toContain(pods.items[0]?.spec?.nodeName);
  });

  it('deletes a Deployment with foreground propagation, taking its ReplicaSet and Pods with it', async () => {
    await apps.createNamespacedDeployment({ namespace, body: deployment('doomed') });
    await eventually(
      async () => (await apps.readNamespacedDeployment({ name: 'doomed', namespace })).status?.availableReplicas === 1,
      60_000,
      'doomed available',
    );
    expect((await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=doomed' })).items).toHaveLength(1);

    await apps.deleteNamespacedDeployment({ name: 'doomed', namespace, propagationPolicy: 'Foreground' });

    await eventually(
      async () => {
        const deployments = await apps.listNamespacedDeployment({ namespace, fieldSelector: 'metadata.name=doomed' });
        return deployments.items.length === 0;
      },
      60_000,
      'the Deployment to be gone',
    );
    // Foreground deletion removes the owner last, so its dependents are already gone.
    expect((await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=doomed' })).items).toEqual([]);
    expect((await core.listNamespacedPod({ namespace, labelSelector: 'app=doomed' })).items).toEqual([]);
  });

  it('pages a label-selector list with limit and continue', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `paged-${i}`);
    await Promise.all(
      names.map((name) =>
        apps.createNamespacedDeployment({
          namespace,
          body: { ...deployment(name, { page: 'yes' }), spec: { ...deployment(name).spec!, replicas: 0 } },
        }),
      ),
    );
    await apps.createNamespacedDeployment({ namespace, body: deployment('unlabelled-for-paging') });

    const seen: string[] = [];
    let pages = 0;
    let token: string | undefined;
    do {
      const page = await apps.listNamespacedDeployment({
        namespace,
        labelSelector: 'page=yes',
        limit: 2,
        ...(token ? { _continue: token } : {}),
      });
      pages += 1;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.metadata?.name ?? ''));
      token = page.metadata?._continue || undefined;
    } while (token);

    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(names);
  });
});
