import type { ProgressSink } from '../api/progress.ts';
import type { CallerIdentity } from '../auth/identity.ts';
import type { InstancePolicy } from '../auth/policy.ts';
import type { Clock } from '../clock.ts';
import type { DisksApi } from '../gce/disks.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import type { InstanceObjectsClient } from '../kube/instance-objects.ts';

/** What every executor reads with: this allocator's cluster, and the time. */
export interface ClusterContext {
  readonly serverName: string;
  readonly cluster: ClusterClient;
  /** The instances' Services and ConfigMaps: their endpoints, and what create makes and teardown deletes beside the Deployment. */
  readonly objects: InstanceObjectsClient;
  readonly clock: Clock;
  /** Told each step as it happens, when the caller asked to see them. */
  readonly progress?: ProgressSink;
}

/** An executor acting for a caller: who calls, and who may touch which instance. */
export interface CallerContext extends ClusterContext {
  readonly caller: CallerIdentity;
  readonly policy: InstancePolicy;
}

/** What an executor that changes things acts on: both adapters, the clock, randomness, and the request's log. */
export interface ExecutionContext extends ClusterContext {
  readonly disks: DisksApi;
  /** Random bytes: instance names, slot holders, lock holders. */
  readonly random: (bytes: number) => Buffer;
  readonly timeouts: {
    /** How long a Deployment may take to go once deleted. */
    readonly deleteMs: number;
    /** How long a disk's delete is retried while it is still attached. */
    readonly diskReleaseMs: number;
  };
  /** Told what could not be undone (and other things worth a line in the request's log). */
  readonly report: (event: string) => void;
}

/** Destroy, suspend, resume and reset: a caller's change to one instance, under its lock. */
export interface InstanceContext extends ExecutionContext, CallerContext {
  /** The longest an operation may hold the instance's lock. */
  readonly lockMs: number;
}
