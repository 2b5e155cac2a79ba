import type { Clock } from '../clock.ts';
import type { DisksApi } from '../gce/disks.ts';
import type { ClusterClient } from '../kube/cluster.ts';

/** What an executor acts on: the two adapters and the clock, nothing else. */
export interface ExecutionContext {
  readonly serverName: string;
  readonly cluster: ClusterClient;
  readonly disks: DisksApi;
  readonly clock: Clock;
  readonly timeouts: {
    /** How long a Deployment may take to go once deleted. */
    readonly deleteMs: number;
    /** How long a disk's delete is retried while it is still attached. */
    readonly diskReleaseMs: number;
  };
  /** Told what could not be undone (and other things worth a line in the request's log). */
  readonly report: (event: string) => void;
}
