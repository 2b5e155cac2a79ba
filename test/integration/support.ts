import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';

/** A KubeConfig for the run's control plane (see global-setup.ts). */
export function testKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(inject('kubeconfigPath'));
  return kubeConfig;
}

/** Creates a fresh namespace for one test file and returns its name and a remover. */
export async function createTestNamespace(
  kubeConfig: KubeConfig,
  prefix: string,
): Promise<{ namespace: string; remove: () => Promise<void> }> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // Pods need the namespace's default service account, which a controller makes.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace });
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    namespace,
    remove: async () => {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    },
  };
}

/** Polls `probe` every 100 ms until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
