import { appendFileSync, writeFileSync } from 'node:fs';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

/**
 * One line of a container's log in the CRI format the kubelet reads (and kwok
 * serves from its files): `<RFC 3339 nano time> stdout F <text>`.
 */
export function criLogLine(time: Date, text: string, nanos = 0): string {
  const iso = time.toISOString(); // milliseconds
  const fraction = `${iso.slice(20, 23)}${String(nanos).padStart(6, '0')}`;
  return `${iso.slice(0, 19)}.${fraction}Z stdout F ${text}\n`;
}

/** Writes `lines` to a CRI log file, appending unless `fresh`. */
export function writePodLog(file: string, lines: readonly string[], options: { fresh?: boolean } = {}): void {
  (options.fresh ? writeFileSync : appendFileSync)(file, lines.join(''));
}

/**
 * Gives pod `pod` of `namespace` its own log, `file`, which kwok follows
 * (kwok's `Logs` resource, watched by kwok started with --enable-crds=Logs).
 * kwok learns of it by its watch: read the log until it shows.
 */
export async function attachPodLog(kubeConfig: KubeConfig, options: { namespace: string; pod: string; file: string }): Promise<void> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  await api.createNamespacedCustomObject({
    group: 'kwok.x-k8s.io',
    version: 'v1alpha1',
    namespace: options.namespace,
    plural: 'logs',
    body: {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Logs',
      metadata: { name: options.pod, namespace: options.namespace },
      spec: { logs: [{ logsFile: options.file, follow: true }] },
    },
  });
}
