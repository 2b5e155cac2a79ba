/**
 * The JSON the functions answer, shared by the server and the typed client,
 * with the checks the client runs on what it receives. The JSON Schemas of the
 * same shapes, which the OpenAPI description publishes, are in api/schemas.ts.
 */

/** Where an instance is in its life. */
export const INSTANCE_STATES = ['starting', 'ready', 'suspended', 'failing', 'deleting'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** Something that keeps an instance from becoming ready, read from its pods and their events. */
export interface Problem {
  /** Kubernetes' reason: ImagePullBackOff, CrashLoopBackOff, FailedScheduling, FailedMount, ... */
  readonly reason: string;
  readonly message: string;
  /** When it was first seen (ISO time). */
  readonly since: string;
  /** It will not go away by waiting (an image that does not exist, say): a wait for the instance stops at once. */
  readonly permanent: boolean;
}

/** Where one port of one of an instance's Services answers. */
export interface Endpoint {
  /** The Service's name. */
  readonly service: string;
  /** The port's name (its number, as text, when it has none). */
  readonly name: string;
  /** TCP, UDP or SCTP. */
  readonly protocol: string;
  /** The in-cluster name, `<service>.<namespace>.svc.cluster.local`: reachable from pods in the cluster. */
  readonly host: string;
  readonly port: number;
  /** The internal load balancer's address, once one is assigned: reachable from the VPC. */
  readonly loadBalancer?: { readonly host: string; readonly port: number };
}

/** An instance, as create, extend and list answer it. */
export interface Instance {
  readonly name: string;
  readonly owner: string;
  readonly mountName: string;
  readonly accessList: { readonly In: readonly string[] };
  readonly creationTime: string;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly version: string;
  readonly disk: string;
  /** When the cleanup sweep destroys it; null: never. */
  readonly expiresAt: string | null;
  /** The parameters it was made with: every one the allocator declared then, by name. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly state: InstanceState;
  /** Why it is not ready, if anything says so; empty otherwise. */
  readonly problems: readonly Problem[];
  /** Where its Services answer, one per port; empty when its template makes none. Optional for servers before endpoints; every answer now has it. */
  readonly endpoints?: readonly Endpoint[];
  /** Who the owner shares it with (emails). Optional for servers before sharing; every answer now has it. */
  readonly collaborators?: readonly string[];
  /** In list's answer: true when it is someone else's, shared with the caller. */
  readonly sharedWithMe?: boolean;
  /** In list's answer: the operations the caller may run on it now (its phase, the caller's role and token, by the table of transitions). */
  readonly operations?: readonly string[];
}

/** An answer that is not what the API promises (a proxy's error page, another version of the server). */
export class InvalidAnswerError extends Error {
  override readonly name = 'InvalidAnswerError';
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Checks that `value` is an Instance as the functions answer it, naming the first field that is not. */
export function parseInstance(value: unknown, where = 'instance'): Instance {
  if (!isRecord(value)) throw new InvalidAnswerError(`${where} is not an object`);
  const fail = (field: string, what: string): never => {
    throw new InvalidAnswerError(`${where}.${field} is not ${what}`);
  };
  for (const field of ['name', 'owner', 'mountName', 'creationTime', 'version', 'disk'] as const) {
    if (typeof value[field] !== 'string') fail(field, 'a string');
  }
  for (const field of ['replicas', 'readyReplicas'] as const) {
    if (!Number.isInteger(value[field])) fail(field, 'a whole number');
  }
  const accessList = value.accessList;
  if (!isRecord(accessList) || !Array.isArray(accessList.In) || !accessList.In.every((entry) => typeof entry === 'string'))
    fail('accessList', '{"In": [strings]}');
  if (value.expiresAt !== null && typeof value.expiresAt !== 'string') fail('expiresAt', 'a string or null');
  if (!(INSTANCE_STATES as readonly unknown[]).includes(value.state)) fail('state', `one of ${INSTANCE_STATES.join(', ')}`);
  const { collaborators } = value;
  if (collaborators !== undefined && !(Array.isArray(collaborators) && collaborators.every((entry) => typeof entry === 'string')))
    fail('collaborators', 'a list of emails');
  if (value.sharedWithMe !== undefined && typeof value.sharedWithMe !== 'boolean') fail('sharedWithMe', 'true or false');
  if (value.operations !== undefined && !(Array.isArray(value.operations) && value.operations.every((kind) => typeof kind === 'string')))
    fail('operations', 'a list of strings');
  const { endpoints } = value;
  if (endpoints !== undefined && !(Array.isArray(endpoints) && endpoints.every(isEndpoint)))
    fail('endpoints', 'a list of {service, name, protocol, host, port}');
  const problems = value.problems;
  if (
    !Array.isArray(problems) ||
    !problems.every(
      (p) =>
        isRecord(p) &&
        typeof p.reason === 'string' &&
        typeof p.message === 'string' &&
        typeof p.since === 'string' &&
        typeof p.permanent === 'boolean',
    )
  ) {
    fail('problems', 'a list of {reason, message, since, permanent}');
  }
  // An allocator from before parameters answers without them: it made none.
  if (value.parameters === undefined) return { ...value, parameters: {} } as unknown as Instance;
  if (!isRecord(value.parameters) || !Object.values(value.parameters).every((entry) => typeof entry === 'string'))
    fail('parameters', 'an object of strings');
  return value as unknown as Instance;
}

function isEndpoint(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const { loadBalancer } = value;
  return (
    ['service', 'name', 'protocol', 'host'].every((field) => typeof value[field] === 'string') &&
    Number.isInteger(value.port) &&
    (loadBalancer === undefined || (isRecord(loadBalancer) && typeof loadBalancer.host === 'string' && Number.isInteger(loadBalancer.port)))
  );
}

/** Checks list's answer, `{"instances": [...]}`. */
export function parseInstanceList(value: unknown): Instance[] {
  if (!isRecord(value) || !Array.isArray(value.instances)) throw new InvalidAnswerError('the answer has no "instances" list');
  return value.instances.map((instance, index) => parseInstance(instance, `instances[${index}]`));
}

/** A destroyed instance that can still be restored, as `list --destroyed` answers it. */
export interface DestroyedInstance {
  readonly name: string;
  readonly owner: string;
  readonly mountName: string;
  readonly destroyedAt: string;
  /** Until when a restore can bring it back; then the sweep deletes its disk. */
  readonly restorableUntil: string;
}

/** Checks the answer of the destroyed list, `{"destroyed": [...]}`. */
export function parseDestroyedList(value: unknown): DestroyedInstance[] {
  if (!isRecord(value) || !Array.isArray(value.destroyed)) throw new InvalidAnswerError('the answer has no "destroyed" list');
  return value.destroyed.map((entry, index) => {
    if (!isRecord(entry)) throw new InvalidAnswerError(`destroyed[${index}] is not an object`);
    for (const field of ['name', 'owner', 'mountName', 'destroyedAt', 'restorableUntil'] as const) {
      if (typeof entry[field] !== 'string') throw new InvalidAnswerError(`destroyed[${index}].${field} is not a string`);
    }
    return entry as unknown as DestroyedInstance;
  });
}

/** The destroyed list with the allocator's restore window (0: restore is off; absent from servers before it said so). */
export interface DestroyedList {
  readonly destroyed: DestroyedInstance[];
  readonly restoreWindowSeconds?: number;
}

/** Checks the destroyed list's whole answer: the list, and the restore window when the server says it. */
export function parseDestroyedAnswer(value: unknown): DestroyedList {
  const destroyed = parseDestroyedList(value);
  const window = (value as Record<string, unknown>).restoreWindowSeconds;
  if (window === undefined) return { destroyed };
  if (typeof window !== 'number' || !Number.isInteger(window) || window < 0)
    throw new InvalidAnswerError('restoreWindowSeconds is not a whole number of seconds');
  return { destroyed, restoreWindowSeconds: window };
}

/** What a destroy answers: with a restore window, until when the instance can be restored. */
export interface DestroyResult {
  readonly name: string;
  readonly destroyed: true;
  /** Absent when the destroy was final (no window, `now`, or no disk to keep). */
  readonly restorableUntil?: string;
}

/** What transfer answers the previous owner's re-sent request: that it is done, and to whom, and nothing of an instance they no longer see. */
export interface Transferred {
  readonly name: string;
  readonly owner: string;
  readonly transferred: true;
}

/** Transfer's answer: the instance, or to the previous owner's re-sent request only that it is done. */
export type TransferAnswer = Instance | Transferred;

/** Checks transfer's answer. */
export function parseTransferAnswer(value: unknown): TransferAnswer {
  if (isRecord(value) && value.transferred === true) {
    if (typeof value.name !== 'string' || typeof value.owner !== 'string')
      throw new InvalidAnswerError('the answer is not {"name": ..., "owner": ..., "transferred": true}');
    return { name: value.name, owner: value.owner, transferred: true };
  }
  return parseInstance(value);
}

/** Checks destroy's answer. */
export function parseDestroyResult(value: unknown): DestroyResult {
  if (!isRecord(value) || typeof value.name !== 'string' || value.destroyed !== true)
    throw new InvalidAnswerError('the answer is not {"name": ..., "destroyed": true}');
  if (value.restorableUntil !== undefined && typeof value.restorableUntil !== 'string')
    throw new InvalidAnswerError('restorableUntil is not a string');
  return value as unknown as DestroyResult;
}

/** What one sweep did (or, in a dry run, would do). */
export interface SweepReport {
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Expired instances destroyed. */
  readonly expired: readonly { name: string; owner: string; expiresAt: string }[];
  /** Disks of this allocator whose Deployment is missing (a destroyed instance's, once its restore window has ended). */
  readonly orphanDisks: readonly { name: string; createdAt: string }[];
  /** Deployments of this allocator whose disk is missing. */
  readonly orphanDeployments: readonly { name: string; createdAt: string }[];
  /** Limit slots held for instances that do not exist, or (with `ownerHash`) for an owner the instance no longer has, left by a transfer. */
  readonly orphanSlots: readonly { name: string; instance: string; ownerHash?: string }[];
  readonly failed: readonly { kind: string; name: string; error: string }[];
  /**
   * What the walk of the records did (in a dry run, would do), one line each: an operation past its deadline ended,
   * an instance whose Deployment is gone torn down (a create killed before it), a destroyed one past its window
   * dropped, a place in line whose waiter went away removed.
   */
  readonly reconciled: readonly string[];
  /** Destroys left for the next sweep by the per-run bound. */
  readonly deferred: number;
  readonly scanned: { readonly deployments: number; readonly disks: number; readonly slots: number };
  /** The warm pool of disks: its configured size, its free disks before the sweep, and what the sweep made and deleted (in a dry run, would). */
  readonly pool: {
    readonly size: number;
    readonly free: number;
    readonly made: number;
    readonly retired: readonly { name: string; why: string }[];
  };
}

/** Checks the sweep's answer as far as a caller relies on it: its lists and counts. */
export function parseSweepReport(value: unknown): SweepReport {
  if (!isRecord(value) || typeof value.dryRun !== 'boolean') throw new InvalidAnswerError('the answer is not a sweep report');
  for (const field of ['expired', 'orphanDisks', 'orphanDeployments', 'orphanSlots', 'failed'] as const) {
    if (!Array.isArray(value[field])) throw new InvalidAnswerError(`the sweep report's ${field} is not a list`);
  }
  if (!Number.isInteger(value.deferred)) throw new InvalidAnswerError("the sweep report's deferred is not a whole number");
  return value as unknown as SweepReport;
}

/** What an event is about, in the words `allocator events` uses: the instance as a whole, its pod, or one of its Services. */
export const EVENT_SUBJECTS = ['instance', 'pod', 'service'] as const;
export type EventSubject = (typeof EVENT_SUBJECTS)[number];

/** One thing Kubernetes reported about an instance, in plain words, as the events operation answers it. */
export interface ClusterEvent {
  /** When it last happened (ISO time). */
  readonly time: string;
  /** When it first happened, if it happened more than once. */
  readonly firstTime?: string;
  readonly about: EventSubject;
  /** With `about: service`: the Service's name. */
  readonly service?: string;
  /** Something went wrong (Kubernetes' Warning), rather than the normal course of things. */
  readonly warning: boolean;
  /** How many times it happened. */
  readonly count: number;
  /** Kubernetes' own reason (`BackOff`, `FailedScheduling`, ...), for scripts; people read `message`. */
  readonly reason: string;
  /** What happened, in plain words. */
  readonly message: string;
}

/** Checks the events operation's answer, `{"events": [...]}`, naming the first entry that is not a ClusterEvent. */
export function parseClusterEvents(value: unknown): ClusterEvent[] {
  if (!isRecord(value) || !Array.isArray(value.events)) throw new InvalidAnswerError('the answer has no "events" list');
  return value.events.map((entry, index) => {
    const where = `events[${index}]`;
    if (!isRecord(entry)) throw new InvalidAnswerError(`${where} is not an object`);
    for (const field of ['time', 'reason', 'message'] as const)
      if (typeof entry[field] !== 'string') throw new InvalidAnswerError(`${where}.${field} is not a string`);
    if (!(EVENT_SUBJECTS as readonly unknown[]).includes(entry.about))
      throw new InvalidAnswerError(`${where}.about is not one of ${EVENT_SUBJECTS.join(', ')}`);
    if (typeof entry.warning !== 'boolean') throw new InvalidAnswerError(`${where}.warning is not true or false`);
    if (!Number.isInteger(entry.count) || (entry.count as number) < 1)
      throw new InvalidAnswerError(`${where}.count is not a positive whole number`);
    return entry as unknown as ClusterEvent;
  });
}
