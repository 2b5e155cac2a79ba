import type { CoreV1Event } from '@kubernetes/client-node';
import type { ClusterEvent, EventSubject } from '../api-types.ts';

/** A sentence for one event's message, or undefined when the message is not the one its reason usually says (then it is shown cleaned). */
type Saying = (message: string) => string | undefined;

/** `template` with the groups of `pattern`'s match in `message`, or undefined if it does not match. */
function said(pattern: RegExp, message: string, template: (...groups: string[]) => string): string | undefined {
  const match = pattern.exec(message);
  return match ? template(...match.slice(1).map((group) => group ?? '')) : undefined;
}

const pods = (count: number): string => `${count} pod${count === 1 ? '' : 's'}`;

/** The resources the scheduler and the kubelet name, as a person says them. */
const RESOURCE_WORDS: Readonly<Record<string, string>> = {
  cpu: 'CPU',
  memory: 'memory',
  'ephemeral-storage': 'local disk space',
  'nvidia.com/gpu': 'GPUs',
  pods: 'room for pods',
};
const resource = (name: string): string => RESOURCE_WORDS[name] ?? name;

/** The gRPC and Google API wrapping of a refusal, which says nothing to a person. */
function withoutWrapping(text: string): string {
  return text
    .replace(/^rpc error: code = \w+ desc = /, '')
    .replace(/^googleapi: Error \d+: /, '')
    .trim();
}

/** Why an image could not be downloaded, from the runtime's long refusal. */
function pullRefusal(text: string): string {
  if (/\bnot found\b/i.test(text)) return 'it does not exist';
  if (/\b429\b|too many requests/i.test(text)) return 'the registry asks to wait (too many requests)';
  if (/unauthorized|forbidden|denied|\b403\b/i.test(text)) return 'access to it was refused';
  return withoutWrapping(text);
}

/**
 * The scheduler's reasons a node was ruled out, as in
 * `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had volume node affinity conflict.`
 */
const NODE_REFUSALS: readonly (readonly [RegExp, (plural: boolean, ...groups: string[]) => string])[] = [
  [/^Insufficient (\S+)$/, (plural, name = '') => `${plural ? 'have' : 'has'} too little ${resource(name)} free`],
  [/volume node affinity conflict/, (plural) => `${plural ? 'are' : 'is'} not in its disk's zone`],
  [/didn't match Pod's node affinity\/selector/, (plural) => `${plural ? 'are' : 'is'} not of the zone or kind it needs`],
  [/untolerated taint \{node\.kubernetes\.io\/(?:not-ready|unreachable)/, (plural) => `${plural ? 'are' : 'is'} not ready`],
  [/untolerated taint/, (plural) => `${plural ? 'are' : 'is'} kept for other work`],
  [/were unschedulable/, (plural) => `${plural ? 'are' : 'is'} closed to new work`],
  [/didn't have free ports/, (plural) => `already ${plural ? 'use' : 'uses'} a port it needs`],
  [/^Too many pods$/, (plural) => `${plural ? 'are' : 'is'} full`],
  [/pod (?:anti-)?affinity rules/, (plural) => `${plural ? 'are' : 'is'} ruled out by its placement rules`],
];

/** The scheduler's message in plain words: how many nodes were ruled out for what, without its preemption report. */
function schedulingFailure(message: string): string {
  const counted = /^0\/(\d+) nodes are available: (.*?)\.?(?: preemption: .*)?$/s.exec(message);
  if (!counted) {
    if (/unbound immediate PersistentVolumeClaims/.test(message)) return 'its disk claim is not bound yet';
    if (/no nodes available/i.test(message)) return 'the cluster has no nodes';
    return message;
  }
  const [, total = '', list = ''] = counted;
  return list
    .split(/, (?=\d+ )/)
    .map((item) => {
      const [, count = '', why = item] = /^(\d+) (.*)$/.exec(item) ?? [];
      for (const [pattern, phrase] of NODE_REFUSALS) {
        const match = pattern.exec(why);
        if (match) return `${count} of ${total} ${phrase(count !== '1', ...match.slice(1).map((group) => group ?? ''))}`;
      }
      return `${count} of ${total}: ${why.replace(/node\(s\) /, '')}`;
    })
    .join(', ');
}

/** Why the ReplicaSet controller could not make a pod: a quota, an admission policy, or the API server's own words. */
function creationRefusal(text: string): string {
  const quota = /exceeded quota: ([^,]+), requested: (.*?), used: (.*?), limited: (.*)$/s.exec(text);
  if (quota) return `the namespace's quota ${quota[1]} is used up (it asks ${quota[2]}; ${quota[3]} of ${quota[4]} used)`;
  return text.replace(/^pods "[^"]*" is forbidden: /, 'not allowed: ');
}

const probe = (kind: string, detail: string): string => {
  if (kind === 'Readiness') return `Not ready: its readiness check failed (${detail.trim()})`;
  if (kind === 'Liveness') return `Its liveness check failed (${detail.trim()}); if that goes on, it is restarted`;
  return `Still starting: its startup check failed (${detail.trim()})`;
};

/**
 * What each reason says, by the component that reports it. A reason not
 * here, or a message its reason does not usually carry, is shown as its
 * message without the internal names (`withoutInternalNames`).
 */
const SAYINGS: Readonly<Record<string, Saying>> = {
  // The Deployment controller. Its message names the ReplicaSet, which says nothing to a person.
  ScalingReplicaSet: (m) =>
    said(/^Scaled (up|down) replica set \S+ (?:from \d+ )?to (\d+)/, m, (way, to) => `Scaled ${way} to ${pods(Number(to))}`),
  // The ReplicaSet controller: whether the instance's pods could be made.
  SuccessfulCreate: (m) => (m.startsWith('Created pod') ? 'Made a new pod' : undefined),
  SuccessfulDelete: (m) => (m.startsWith('Deleted pod') ? 'Removed a pod' : undefined),
  FailedCreate: (m) => said(/^Error creating: (.*)$/s, m, (why) => `Could not make its pod: ${creationRefusal(why)}`),
  // The scheduler.
  Scheduled: (m) => said(/^Successfully assigned \S+ to (\S+)$/, m, (node) => `Placed on node ${node}`),
  FailedScheduling: (m) => `No node could run it: ${schedulingFailure(m)}`,
  Preempted: () => 'Stopped to make room for more important work',
  // The kubelet.
  Pulling: (m) => said(/^Pulling image "([^"]+)"/, m, (image) => `Downloading the image ${image}`),
  Pulled: (m) =>
    said(/^Successfully pulled image "([^"]+)" in ([\d.]+[a-zµ]+)/, m, (image, took) => `Downloaded the image ${image} in ${took}`) ??
    said(/^Container image "([^"]+)" already present on machine/, m, (image) => `The image ${image} was already on its node`),
  Failed: (m) =>
    said(/^Failed to pull image "([^"]+)": (.*)$/s, m, (image, why) => `Could not download the image ${image}: ${pullRefusal(why)}`) ??
    said(/^Error: (?:ErrImagePull|ImagePullBackOff)$/, m, () => 'Could not download its image') ??
    said(/^Failed to apply default image tag "([^"]+)"/, m, (image) => `The image name ${image} is not valid`) ??
    said(/^Error: InvalidImageName$/, m, () => 'Its image name is not valid') ??
    said(/^Error: (.*)$/s, m, (why) => `Its container could not start: ${why}`),
  BackOff: (m) =>
    said(/^Back-off pulling image "([^"]+)"/, m, (image) => `Waiting before trying to download the image ${image} again`) ??
    said(
      /^Back-off restarting failed container (\S+)/,
      m,
      (container) => `Its container ${container} keeps crashing; waiting before starting it again`,
    ),
  Created: (m) => said(/^Created container:? (\S+)/, m, (container) => `Made its container ${container}`),
  Started: (m) => said(/^Started container (\S+)/, m, (container) => `Started its container ${container}`),
  Killing: (m) => said(/^Stopping container (\S+)/, m, (container) => `Stopping its container ${container}`),
  Unhealthy: (m) => said(/^(Readiness|Liveness|Startup) probe (?:failed|errored): (.*)$/s, m, probe),
  FailedMount: (m) =>
    said(
      /^MountVolume\.\w+ failed for volume "([^"]+)" : (.*)$/s,
      m,
      (volume, why) => `Its volume ${volume} could not be mounted: ${withoutWrapping(why)}`,
    ) ??
    said(
      /^Unable to attach or mount volumes: unmounted volumes=\[([^\]]*)\]/,
      m,
      (volumes) => `Still waiting for its volumes ${volumes} to be attached and mounted`,
    ),
  FailedAttachVolume: (m) =>
    said(
      /^AttachVolume\.Attach failed for volume "([^"]+)" : (.*)$/s,
      m,
      (volume, why) => `Its disk ${volume} could not be attached: ${withoutWrapping(why)}`,
    ) ??
    said(
      /^Multi-Attach error for volume "([^"]+)"/,
      m,
      (volume) => `Its disk ${volume} is still attached to another node; waiting for it to be let go`,
    ),
  SuccessfulAttachVolume: (m) => said(/^AttachVolume\.Attach succeeded for volume "([^"]+)"/, m, (volume) => `Attached its disk ${volume}`),
  OOMKilling: () => 'It ran out of memory and was stopped',
  Evicted: (m) =>
    said(/low on resource: ([\w./-]*[\w/-])/, m, (name) => `Its node ran low on ${resource(name)} and moved it off`) ??
    `Moved off its node: ${m}`,
  NodeNotReady: () => 'Its node stopped answering',
  FailedCreatePodSandBox: (m) =>
    said(/^Failed to create pod sandbox: (.*)$/s, m, (why) => `Its node could not set it up: ${withoutWrapping(why)}`),
  SandboxChanged: () => 'Its node set it up again; its containers start again',
  // The cloud provider's Service controller, for a Service of type LoadBalancer.
  EnsuringLoadBalancer: () => 'Setting up its load balancer',
  EnsuredLoadBalancer: () => 'Its load balancer is ready',
  UpdatedLoadBalancer: () => 'Updated its load balancer',
  SyncLoadBalancerFailed: (m) =>
    `Its load balancer could not be set up: ${withoutWrapping(m.replace(/^Error syncing load balancer: (?:failed to ensure load balancer: )?/, ''))}`,
  DeletingLoadBalancer: () => 'Removing its load balancer',
  DeletedLoadBalancer: () => 'Removed its load balancer',
};

/** The letters of Kubernetes' generated name parts (`rand.SafeEncodeString`): no vowels, so no word of a template's names. */
const GENERATED = '[bcdfghjklmnpqrstvwxz2456789]';

/**
 * `text` without the names Kubernetes gives the instance's innards: a pod's
 * (`<instance>-<template hash>-<suffix>`, with the kubelet's
 * `_<namespace>(<uid>)` after it) becomes "its pod", a ReplicaSet's
 * (`<instance>-<template hash>`) "its pods". A template's own names
 * (`<instance>-config`) stay.
 */
export function withoutInternalNames(text: string, instance: string): string {
  const replicaSet = `${instance}-${GENERATED}{6,10}`;
  const pod = `(?:[a-z0-9-]+/)?${replicaSet}-${GENERATED}{5}(?:_[a-z0-9-]+\\([0-9a-f-]+\\))?`;
  return text
    .replace(new RegExp(`\\b${pod}(?![a-z0-9-])`, 'g'), 'its pod')
    .replace(new RegExp(`\\b${replicaSet}(?![a-z0-9-])`, 'g'), 'its pods');
}

/** A reason as words, for an event with no message: `FailedKillPod` → `Failed kill pod`. */
function reasonAsWords(reason: string): string {
  const words = reason.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * One event's sentence: what its reason says of its message, else the
 * message itself; either way without the instance's internal names.
 */
export function sentenceOf(event: Pick<CoreV1Event, 'reason' | 'message'>, instance: string): string {
  // The recorder's prefix when it merged events of one object that differ only in their messages.
  const message = (event.message ?? '').replace(/^\(combined from similar events\): /, '').trim();
  const sentence = withoutInternalNames(SAYINGS[event.reason ?? '']?.(message) ?? message, instance);
  return sentence === '' ? reasonAsWords(event.reason ?? 'Event') : sentence;
}

const SUBJECTS: Readonly<Record<string, EventSubject>> = { Pod: 'pod', Service: 'service' };

type Time = Date | string | undefined | null;
/** The first of `times` that is set: a time of none (null, or Go's zero time, year 1) is passed over. */
const isoOf = (...times: Time[]): string | undefined => {
  const time = times.find((candidate) => candidate != null && new Date(candidate).getTime() > 0);
  return time == null ? undefined : new Date(time).toISOString();
};

/**
 * What Kubernetes reported about instance `instance`, in plain words (pure):
 * one entry per sentence, its repeats folded into its count (the `count` of
 * an old-style event, the series of a new-style one, and equal sentences of
 * several events), oldest last occurrence first. Events about its
 * Deployment and ReplicaSets are about the instance; its pods' and
 * Services' are about those. Give them in the order in which one object's
 * lead to the next's (the Deployment's, its ReplicaSets', its pods'): that
 * order stays among events of the same second.
 */
export function plainEvents(events: readonly CoreV1Event[], instance: string): ClusterEvent[] {
  const folded = new Map<string, ClusterEvent>();
  for (const event of events) {
    const first = isoOf(event.firstTimestamp, event.eventTime, event.metadata?.creationTimestamp);
    const last = isoOf(
      event.lastTimestamp,
      event.series?.lastObservedTime,
      event.eventTime,
      event.firstTimestamp,
      event.metadata?.creationTimestamp,
    );
    if (last === undefined) continue;
    const about = SUBJECTS[event.involvedObject.kind ?? ''] ?? 'instance';
    const entry: ClusterEvent = {
      time: last,
      ...(first !== undefined && first < last ? { firstTime: first } : {}),
      about,
      ...(about === 'service' ? { service: event.involvedObject.name ?? '' } : {}),
      warning: event.type === 'Warning',
      count: Math.max(1, event.count ?? 0, event.series?.count ?? 0),
      reason: event.reason ?? '',
      message: sentenceOf(event, instance),
    };
    const key = JSON.stringify([entry.about, entry.service, entry.warning, entry.reason, entry.message]);
    const seen = folded.get(key);
    folded.set(key, seen ? fold(seen, entry) : entry);
  }
  // Old-style events have whole seconds: a tie keeps the order listed, in which one object's events lead to the next's.
  return [...folded.values()].sort((a, b) => a.time.localeCompare(b.time));
}

/** Two entries of one sentence as one: counts added, from the earliest time to the latest. */
function fold(a: ClusterEvent, b: ClusterEvent): ClusterEvent {
  const time = a.time > b.time ? a.time : b.time;
  const first = [a.firstTime ?? a.time, b.firstTime ?? b.time].sort()[0]!;
  const { firstTime: _replaced, ...rest } = a;
  return { ...rest, time, ...(first < time ? { firstTime: first } : {}), count: a.count + b.count };
}
