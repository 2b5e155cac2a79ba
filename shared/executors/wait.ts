import type { V1Deployment } from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import { DeadlineExceededError } from '../errors.ts';
import { isAvailable } from '../instances/instance.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import { pollDelays } from './poll.ts';

/** Polls until every wanted replica of `name` is available, or throws a 504 after `timeoutMs`. */
export async function waitUntilAvailable(cluster: ClusterClient, clock: Clock, name: string, timeoutMs: number): Promise<V1Deployment> {
  const deadline = clock.now() + timeoutMs;
  const delays = pollDelays();
  for (;;) {
    const current = await cluster.readDeployment(name);
    if (current && isAvailable(current)) return current;
    const delay = delays.next().value;
    if (clock.now() + delay > deadline) throw new DeadlineExceededError(`instance ${name} was not available within ${Math.round(timeoutMs / 1000)} s`);
    await clock.sleep(delay);
  }
}

/** Polls until `name`'s Deployment is gone (foreground deletion removes its pods first). */
export async function waitUntilDeploymentGone(cluster: ClusterClient, clock: Clock, name: string, timeoutMs: number): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  const delays = pollDelays();
  while ((await cluster.readDeployment(name)) !== undefined) {
    if (clock.now() > deadline) throw new DeadlineExceededError(`Deployment ${name} was still being deleted after ${Math.round(timeoutMs / 1000)} s`);
    await clock.sleep(delays.next().value);
  }
}
