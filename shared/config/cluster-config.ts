import { ConfigError } from './config-error.ts';

/** Where the instances run: a GKE cluster named by a vkube.cfg, or any cluster by kubeconfig. */
export type ClusterTarget =
  | { readonly kind: 'gke'; readonly project: string; readonly zone: string; readonly cluster: string; readonly namespace: string }
  | { readonly kind: 'kubeconfig'; readonly path: string; readonly namespace: string };

/** The fields of the seed's vkube.cfg that Allocator reads. */
export interface VkubeConfig {
  readonly project: string;
  readonly zone: string;
  readonly cluster: string;
  readonly namespace?: string;
}

/** Validates a parsed vkube.cfg; `source` names the file in messages. */
export function parseVkubeConfig(raw: unknown, source: string): VkubeConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${source} must hold a JSON object like {"project": "...", "zone": "...", "cluster": "..."}`);
  const fields = raw as Record<string, unknown>;
  const text = (key: string, required: boolean): string | undefined => {
    const value = fields[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(`${source}: "${key}" is missing or not a non-empty string; set it to the cluster's ${key}`);
    return value.trim();
  };
  const namespace = text('namespace', false);
  return {
    project: text('project', true) as string,
    zone: text('zone', true) as string,
    cluster: text('cluster', true) as string,
    ...(namespace === undefined ? {} : { namespace }),
  };
}
