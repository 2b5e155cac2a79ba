import { ConfigError } from './config-error.ts';

/** How to reach a GKE cluster's control plane: its IP endpoint (default), or its DNS-based endpoint. */
export const ENDPOINT_KINDS = ['ip', 'dns'] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

/** Where the instances run: a GKE cluster named by a vkube.cfg, or any cluster by kubeconfig. */
export type ClusterTarget =
  | {
      readonly kind: 'gke';
      readonly project: string;
      readonly location: string;
      readonly cluster: string;
      readonly namespace: string;
      readonly endpoint: EndpointKind;
    }
  | { readonly kind: 'kubeconfig'; readonly path: string; readonly namespace: string };

/** The fields of the seed's vkube.cfg that Allocator reads. */
export interface VkubeConfig {
  readonly project: string;
  /** The cluster's zone or, for a regional cluster, its region (`location`, or the seed's `zone`). */
  readonly location: string;
  readonly cluster: string;
  readonly namespace?: string;
  readonly endpoint: EndpointKind;
}

const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;

/** Whether a location is a zone (us-central1-c) rather than a region (us-central1). */
export function isZone(location: string): boolean {
  return ZONE.test(location);
}

/** Validates a parsed vkube.cfg; `source` names the file in messages. */
export function parseVkubeConfig(raw: unknown, source: string): VkubeConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`${source} must hold a JSON object like {"project": "...", "zone": "...", "cluster": "..."}`);
  const fields = raw as Record<string, unknown>;
  const text = (key: string, required: boolean): string | undefined => {
    const value = fields[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.trim() === '')
      throw new ConfigError(`${source}: "${key}" is missing or not a non-empty string; set it to the cluster's ${key}`);
    return value.trim();
  };
  const namespace = text('namespace', false);
  if (fields.location !== undefined && fields.zone !== undefined)
    throw new ConfigError(`${source}: give "location" (a zone or a region) or the older "zone", not both`);
  const location = fields.location !== undefined ? (text('location', true) as string) : (text('zone', true) as string);
  const endpoint = text('endpoint', false) ?? 'ip';
  if (!(ENDPOINT_KINDS as readonly string[]).includes(endpoint))
    throw new ConfigError(`${source}: "endpoint" must be ${ENDPOINT_KINDS.join(' or ')} (got "${endpoint}")`);
  return {
    project: text('project', true) as string,
    location,
    cluster: text('cluster', true) as string,
    ...(namespace === undefined ? {} : { namespace }),
    endpoint: endpoint as EndpointKind,
  };
}
