import { DeadlineExceededError, UnavailableError } from '../errors.ts';
import { DiskInUseError, type DisksApi } from '../gce/disks.ts';
import { DISK_LABELS } from '../instances/metadata.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import { pollDelays } from './poll.ts';
import { releaseSlots } from './slots.ts';

/** Polls until `name`'s Deployment is gone (foreground deletion removes its pods first). */
export async function waitUntilDeploymentGone(cluster: ClusterClient, name: string, options: { timeoutMs: number; sleep: (ms: number) => Promise<void> }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const delays = pollDelays();
  while ((await cluster.readDeployment(name)) !== undefined) {
    if (Date.now() > deadline) throw new DeadlineExceededError(`Deployment ${name} was still being deleted after ${Math.round(options.timeoutMs / 1000)} s`);
    await options.sleep(delays.next().value);
  }
}

/**
 * Deletes the disk named like the instance, retrying while it is still
 * attached (the pod's node lets go of it some time after the pod is gone) or
 * Compute Engine is briefly unavailable, within `timeoutMs`. A disk that does
 * not carry this allocator's labels for this instance is left alone.
 */
export async function deleteInstanceDisk(
  disks: DisksApi,
  options: { serverName: string; name: string; timeoutMs: number; sleep: (ms: number) => Promise<void> },
): Promise<'deleted' | 'absent' | 'not-ours'> {
  const { serverName, name } = options;
  const deadline = Date.now() + options.timeoutMs;
  let delay = 500;
  for (;;) {
    try {
      const disk = await disks.getDisk(name);
      if (disk === undefined) return 'absent';
      if (disk.labels[DISK_LABELS.allocator] !== serverName || disk.labels[DISK_LABELS.instance] !== name) return 'not-ours';
      return (await disks.deleteDisk(name)) ? 'deleted' : 'absent';
    } catch (error) {
      if (!(error instanceof DiskInUseError || error instanceof UnavailableError)) throw error;
      if (Date.now() + delay > deadline) {
        const why = error instanceof DiskInUseError ? 'was still attached' : 'could not be deleted (Compute Engine unavailable)';
        throw new DeadlineExceededError(`disk ${name} ${why} after ${Math.round(options.timeoutMs / 1000)} s; try destroying again later`, { cause: error });
      }
      await options.sleep(delay);
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/** Removes everything of one instance: Deployment (and so its pods), then its disk, then its slots. */
export async function teardownInstance(
  deps: { cluster: ClusterClient; disks: DisksApi; serverName: string; sleep: (ms: number) => Promise<void> },
  name: string,
  timeouts: { deploymentMs: number; diskReleaseMs: number },
): Promise<void> {
  await deps.cluster.deleteDeployment(name);
  await waitUntilDeploymentGone(deps.cluster, name, { timeoutMs: timeouts.deploymentMs, sleep: deps.sleep });
  await deleteInstanceDisk(deps.disks, { serverName: deps.serverName, name, timeoutMs: timeouts.diskReleaseMs, sleep: deps.sleep });
  await releaseSlots(deps.cluster, deps.serverName, name);
}
