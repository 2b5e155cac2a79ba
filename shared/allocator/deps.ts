import type { AllocatorConfig } from '../config/load-config.ts';
import type { DisksApi } from '../gce/disks.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import type { DeploymentTemplate } from '../template/deployment-template.ts';

/** What the create, destroy and list operations work with; tests pass local ones. */
export interface AllocatorDeps {
  readonly config: AllocatorConfig;
  readonly template: DeploymentTemplate;
  /** Connected on first use (GKE needs a call to learn the endpoint). */
  readonly cluster: () => Promise<ClusterClient>;
  /** Built on first use; list never calls it. */
  readonly disks: () => DisksApi;
  /** Source of instance-name randomness; default crypto. */
  readonly randomSuffix?: () => Buffer;
  /** For waits and retries; tests may shorten them. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What destroy and the sweep work with: no template, since they render nothing. */
export type TeardownDeps = Omit<AllocatorDeps, 'template'>;

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
