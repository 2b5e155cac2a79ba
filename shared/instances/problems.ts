import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Problem } from '../api-types.ts';
import { isPermanent } from './permanent-problems.ts';

/** Container waiting reasons that mean it will not start by itself. */
const STUCK_CONTAINER = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Warning events about a pod that say why it cannot run. */
const POD_WARNINGS = new Set(['FailedScheduling', 'FailedAttachVolume', 'FailedMount', 'FailedCreatePodSandBox', 'BackOff', 'Failed']);

const iso = (value: Date | string | undefined, fallback: string): string =>
  value === undefined ? fallback : new Date(value).toISOString();

/**
 * Why an instance's pods are not ready, from their container states, their
 * scheduling condition and the Warning events about them: one problem per
 * reason, oldest first, each marked if it will not go away by waiting
 * (`PERMANENT_PROBLEMS`). Pure; `nowIso` stands in for a time nobody recorded.
 */
export function problemsOf(pods: readonly V1Pod[], events: readonly CoreV1Event[], nowIso: string): Problem[] {
  const found = new Map<string, Problem>();
  // One problem per reason: the oldest, unless a later one of the reason says it is permanent (the kubelet's
  // `Failed` events of one pull say `Error: ErrImagePull` and `Failed to pull image "x": ... not found` together).
  const add = (reason: string, rawMessage: string, since: string): void => {
    const message = rawMessage.trim();
    const permanent = isPermanent({ reason, message });
    const seen = found.get(reason);
    const first = seen === undefined || since < seen.since ? since : seen.since;
    if (!seen || (permanent && !seen.permanent) || (permanent === seen.permanent && since < seen.since))
      found.set(reason, { reason, message, since: first, permanent });
  };
  const podNames = new Set<string>();
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    podNames.add(pod.metadata?.name ?? '');
    const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
      add('FailedScheduling', scheduled.message ?? '', iso(scheduled.lastTransitionTime, nowIso));
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = status.state?.waiting;
      if (waiting?.reason && STUCK_CONTAINER.has(waiting.reason))
        add(waiting.reason, `${status.name}: ${waiting.message ?? waiting.reason}`, iso(pod.status?.startTime, nowIso));
    }
  }
  for (const event of events) {
    if (event.type !== 'Warning' || !event.reason || !POD_WARNINGS.has(event.reason)) continue;
    if (event.involvedObject.kind !== 'Pod' || !podNames.has(event.involvedObject.name ?? '')) continue;
    const since = event.firstTimestamp ?? event.eventTime ?? event.lastTimestamp ?? event.metadata?.creationTimestamp;
    add(event.reason, event.message ?? '', iso(since, nowIso));
  }
  return [...found.values()].sort((a, b) => a.since.localeCompare(b.since) || a.reason.localeCompare(b.reason));
}
