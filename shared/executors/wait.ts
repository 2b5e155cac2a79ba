import type { V1Deployment } from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import { DeadlineExceededError } from '../errors.ts';
import { isAvailable } from '../instances/instance.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import type { DeploymentState } from '../kube/deployment-watch.ts';
import { pollDelays } from './poll.ts';

/**
 * Waits until every wanted replica of `name` is available, or throws a 504
 * after `timeoutMs`. `seen` (what a create just got back) saves the first read.
 */
export async function waitUntilAvailable(
  cluster: ClusterClient,
  clock: Clock,
  name: string,
  timeoutMs: number,
  seen?: V1Deployment,
): Promise<V1Deployment> {
  const available = (state: DeploymentState): state is V1Deployment => state !== undefined && isAvailable(state);
  const state = await follow(cluster, clock, name, timeoutMs, available, seen);
  if (!available(state)) throw new DeadlineExceededError(`instance ${name} was not available within ${Math.round(timeoutMs / 1000)} s`);
  return state;
}

/**
 * Waits until `name`'s Deployment is gone (foreground deletion removes its
 * pods first). `seen` (what its delete answered) saves the first read.
 */
export async function waitUntilDeploymentGone(
  cluster: ClusterClient,
  clock: Clock,
  name: string,
  timeoutMs: number,
  seen?: V1Deployment,
): Promise<void> {
  const gone = (state: DeploymentState): boolean => state === undefined;
  if (!gone(await follow(cluster, clock, name, timeoutMs, gone, seen))) {
    throw new DeadlineExceededError(`Deployment ${name} was still being deleted after ${Math.round(timeoutMs / 1000)} s`);
  }
}

/**
 * Reads `name` (unless given it), then watches it until `done` or the
 * deadline, and answers the last state. A watch that comes back with no
 * change (it was cut) is followed by a short pause, so a failing watch
 * cannot spin.
 */
async function follow(
  cluster: ClusterClient,
  clock: Clock,
  name: string,
  timeoutMs: number,
  done: (state: DeploymentState) => boolean,
  seen?: V1Deployment,
): Promise<DeploymentState> {
  const deadline = clock.now() + timeoutMs;
  const pauses = pollDelays();
  let state = seen ?? (await cluster.readDeployment(name));
  while (!done(state)) {
    const remaining = deadline - clock.now();
    if (remaining <= 0) return state;
    const before = state?.metadata?.resourceVersion;
    state = await cluster.watchDeployment(name, state, remaining, done);
    if (!done(state) && state?.metadata?.resourceVersion === before)
      await clock.sleep(Math.min(pauses.next().value, Math.max(0, deadline - clock.now())));
  }
  return state;
}
