import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { ProgressStep } from '../api/progress.ts';

/** The steps a pod passes on its way up, in order: a later one implies those before it. */
export const POD_STEPS = ['scheduled', 'pulled', 'started'] as const satisfies readonly ProgressStep[];
export type PodStep = (typeof POD_STEPS)[number];

/** Waiting reasons of a container whose image is not on the node yet (the kubelet's). */
const PULLING_REASONS = new Set(['ContainerCreating', 'PodInitializing', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']);

/**
 * How far the furthest of `pods` has come, counting only pods made at or
 * after `sinceMs` (an operation's own pods, not those a restart replaces)
 * and not being deleted; undefined if none has been scheduled.
 */
export function podStepReached(pods: readonly V1Pod[], sinceMs: number): PodStep | undefined {
  // creationTimestamp has whole seconds.
  const since = Math.floor(sinceMs / 1000) * 1000;
  let furthest = -1;
  for (const pod of pods) {
    const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ''));
    if (pod.metadata?.deletionTimestamp || !(created >= since)) continue;
    furthest = Math.max(furthest, POD_STEPS.indexOf(stepOf(pod) as PodStep));
  }
  return POD_STEPS[furthest];
}

function stepOf(pod: V1Pod): PodStep | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  const wanted = pod.spec?.containers.length ?? 0;
  if (statuses.length > 0 && statuses.length >= wanted) {
    if (statuses.every((status) => status.state?.running !== undefined)) return 'started';
    if (statuses.every(isPulled)) return 'pulled';
  }
  const scheduled = pod.status?.conditions?.some((condition) => condition.type === 'PodScheduled' && condition.status === 'True');
  return scheduled || pod.spec?.nodeName ? 'scheduled' : undefined;
}

function isPulled(status: V1ContainerStatus): boolean {
  if (status.state?.running || status.state?.terminated || status.imageID) return true;
  const waiting = status.state?.waiting?.reason;
  return waiting !== undefined && !PULLING_REASONS.has(waiting);
}
