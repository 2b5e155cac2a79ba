import type { DeploymentEventsClient } from '../kube/deployment-events.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Clock } from '../clock.ts';
import type { AllocatorConfig } from '../config/load-config.ts';
import type { DisksApi } from '../gce/disks.ts';
import type { Background } from './background.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import type { PodLogsClient } from '../kube/pod-logs.ts';
import type { InstanceObjectsClient } from '../kube/instance-objects.ts';
import type { DeploymentTemplate } from '../template/deployment-template.ts';

/** What every function is given: its settings, who calls, the cluster (connected on first use; GKE needs a call to learn the endpoint) and the time. */
export interface FunctionRuntime {
  readonly config: AllocatorConfig;
  readonly verifier: TokenVerifier;
  readonly cluster: () => Promise<ClusterClient>;
  /** The instances' Services and ConfigMaps (`shared/kube/instance-objects.ts`), connected on first use as the cluster is. */
  readonly instanceObjects: () => Promise<InstanceObjectsClient>;
  readonly clock: Clock;
}

/**
 * List also reads pods' logs (connected on first use). A runtime without a
 * log client (create's, which serves list in-process tests) gets one from its
 * configuration; tests give a shorter follow limit than the deployed one.
 */
export interface ListRuntime extends FunctionRuntime {
  readonly podLogs?: () => Promise<PodLogsClient>;
  /** How long a followed log stream runs before list ends it; default FOLLOW_LIMIT_MS. */
  readonly followLimitMs?: number;
  readonly deploymentEvents?: () => Promise<DeploymentEventsClient>;
  /** How long a watch's stream runs before list ends it; default FOLLOW_LIMIT_MS. */
  readonly watchLimitMs?: number;
}

/** Destroy and the sweep also delete disks (the client is built on first use), and name their locks' holders. */
export interface DestroyRuntime extends FunctionRuntime {
  readonly disks: () => DisksApi;
  readonly random: (bytes: number) => Buffer;
  /** What requests leave running (the pool's refills); whoever stops the process waits for it. */
  readonly background: Background;
}

/** Create also renders the template. */
export interface CreateRuntime extends DestroyRuntime {
  readonly template: DeploymentTemplate;
}
