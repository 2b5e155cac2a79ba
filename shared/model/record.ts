import type { V1Deployment } from '@kubernetes/client-node';
import { phaseOfDeployment } from '../instances/instance.ts';
import { ANNOTATIONS, instanceParameters, LABELS, LEGACY_ANNOTATIONS, zoneOf } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { collaboratorsOf } from '../instances/sharing.ts';
import { timeOf } from '../instances/timestamps.ts';
import { isPhase, type OperationKind, type Phase } from './transitions.ts';

/** The custom resource of an instance's record (infra/k8s/instance-crd.yaml). */
export const RECORD_RESOURCE = { group: 'allocator.dev', version: 'v1', plural: 'instances', kind: 'Instance' } as const;
export const RECORD_API_VERSION = `${RECORD_RESOURCE.group}/${RECORD_RESOURCE.version}`;

/** What was asked for: who owns it and who may reach it, how it was made, when it expires, and its disk. */
export interface InstanceSpec {
  readonly owner: { readonly email: string; readonly subject?: string };
  /** Who created it, once it has been transferred; absent: its owner did. */
  readonly creator?: string;
  readonly collaborators: readonly string[];
  readonly parameters: Readonly<Record<string, string>>;
  readonly mountName: string;
  readonly version: string;
  /** Millisecond ISO time: creationTimestamp has whole seconds. */
  readonly createdAt: string;
  readonly expiresAt?: string;
  /** Hash of the creating request's Idempotency-Key, with the caller. */
  readonly keyHash?: string;
  /** The template's replica count, which resume and reset scale back to. */
  readonly replicas?: number;
  readonly disk: { readonly name: string; readonly zone: string; readonly source?: string; readonly pooled?: boolean };
  /** While the create waits in line at a limit (phase queued); its claim of the slots removes it. */
  readonly queue?: QueueSpec;
}

/** A queued create's place in line, as asked: when it joined, how long it stays unrenewed, and when its caller gives up. */
export interface QueueSpec {
  /** Millisecond ISO time: its place in line (then its name). A re-sent request keeps it. */
  readonly since: string;
  /** How long it stays in line without a renewal, until its waiter's first status write. */
  readonly leaseSeconds: number;
  /** When its caller gives up waiting (the 504), if they set a queue timeout. */
  readonly timeoutAt?: string;
}

/** The operation that holds an instance: its kind, who runs it, and until when (past it, the sweep or another operation takes over). */
export interface HeldOperation {
  readonly kind: OperationKind;
  readonly holder: string;
  readonly deadline: string;
  /** The phase it started from: where its failure, or a take-over once its deadline passed, leaves the instance. */
  readonly from: Phase;
}

/** What is happening. */
export interface InstanceStatus {
  readonly phase: Phase;
  readonly operation?: HeldOperation;
  /** In phase destroyed: when, which with the restore window says until when it can be restored. */
  readonly destroyedAt?: string;
  /** Who had it before its last transfer: their retry of that transfer is answered. */
  readonly previousOwner?: string;
}

export interface RecordMetadata {
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One instance, from queued to gone. */
export interface InstanceRecord {
  readonly apiVersion: typeof RECORD_API_VERSION;
  readonly kind: 'Instance';
  readonly metadata: RecordMetadata;
  readonly spec: InstanceSpec;
  readonly status: InstanceStatus;
}

/** The labels of a record: the same three as its Deployment, so that one selector lists an owner's. */
export function recordLabels(serverName: string, name: string, ownerEmail: string): Record<string, string> {
  return { [LABELS.allocator]: serverName, [LABELS.ownerHash]: ownerHashOf(ownerEmail), [LABELS.instance]: name };
}

/**
 * The phase of a record whose status was never written: the API server drops
 * a status sent with the create (a subresource), so a record is read so until
 * its first status write.
 */
export function initialPhase(spec: Pick<InstanceSpec, 'queue'>): Phase {
  return spec.queue ? 'queued' : 'provisioning';
}

export function newRecord(input: { serverName: string; name: string; spec: InstanceSpec; phase: Phase }): InstanceRecord {
  return {
    apiVersion: RECORD_API_VERSION,
    kind: 'Instance',
    metadata: { name: input.name, labels: recordLabels(input.serverName, input.name, input.spec.owner.email) },
    spec: input.spec,
    status: { phase: input.phase },
  };
}

/**
 * The record of an instance made before records existed, read from its
 * Deployment: what the first operation on it, or the sweep, writes.
 */
export function recordFromDeployment(deployment: V1Deployment, serverName: string): InstanceRecord {
  const annotations = deployment.metadata?.annotations ?? {};
  const name = deployment.metadata?.name ?? '';
  const owner = annotations[ANNOTATIONS.owner] ?? '';
  const subject = annotations[ANNOTATIONS.ownerSubject];
  const replicas = Number(annotations[ANNOTATIONS.replicas]);
  const phase = phaseOfDeployment(deployment);
  const zone = zoneOf(deployment) ?? '';
  const createdAt = annotations[ANNOTATIONS.createdAt] ?? isoOf(deployment.metadata?.creationTimestamp);
  const previousOwner = annotations[LEGACY_ANNOTATIONS.previousOwner];
  const record = newRecord({
    serverName,
    name,
    phase,
    spec: {
      owner: { email: owner, ...(subject ? { subject } : {}) },
      ...(annotations[LEGACY_ANNOTATIONS.creator] ? { creator: annotations[LEGACY_ANNOTATIONS.creator] } : {}),
      collaborators: collaboratorsOf(deployment),
      parameters: instanceParameters(annotations),
      mountName: annotations[ANNOTATIONS.mountName] ?? '',
      version: annotations[ANNOTATIONS.version] ?? '',
      createdAt,
      ...(annotations[ANNOTATIONS.expiresAt] ? { expiresAt: annotations[ANNOTATIONS.expiresAt] } : {}),
      ...(annotations[ANNOTATIONS.idempotencyKey] ? { keyHash: annotations[ANNOTATIONS.idempotencyKey] } : {}),
      ...(Number.isInteger(replicas) && replicas >= 0 ? { replicas } : {}),
      disk: { name: annotations[ANNOTATIONS.disk] ?? name, zone },
    },
  });
  return previousOwner ? { ...record, status: { ...record.status, previousOwner } } : record;
}

/**
 * When the record's create began, for telling a running create from an
 * interrupted one: its creation, or later its plan's creation time, which a
 * queued create's claim writes after its wait in line (however long that was).
 * Unreadable: never old.
 */
export function startedAtMs(record: InstanceRecord): number {
  const created = timeOf(record.metadata.creationTimestamp);
  const planned = timeOf(record.spec.createdAt);
  return Number.isFinite(planned) ? Math.max(created, planned) : created;
}

/** Who made the instance: the creator its record keeps once it has changed hands, its owner until then. */
export function creatorOf(record: InstanceRecord): string {
  return record.spec.creator ?? record.spec.owner.email;
}

/**
 * `spec` with the owner and collaborators its Deployment says, where they
 * differ (the Deployment is what lets people in): a transfer whose patch
 * landed keeps its creator, as the transfer would have written it.
 */
export function followingDeployment(spec: InstanceSpec, deployment: V1Deployment): InstanceSpec {
  const annotations = deployment.metadata?.annotations ?? {};
  const subject = annotations[ANNOTATIONS.ownerSubject];
  const collaborators = collaboratorsOf(deployment);
  const owner = ownerBeforeDeployment(spec, deployment) && annotations[ANNOTATIONS.owner];
  if (!owner) return { ...spec, collaborators };
  return { ...spec, owner: { email: owner, ...(subject ? { subject } : {}) }, creator: spec.creator ?? spec.owner.email, collaborators };
}

/** The owner `spec` names, if its Deployment has passed to another since: the previous owner of a transfer whose record write was lost. */
export function ownerBeforeDeployment(spec: InstanceSpec, deployment: V1Deployment): string | undefined {
  const owner = deployment.metadata?.annotations?.[ANNOTATIONS.owner];
  return owner === undefined || owner === spec.owner.email ? undefined : spec.owner.email;
}

function isoOf(value: Date | string | undefined): string {
  if (value === undefined) return new Date(0).toISOString();
  return new Date(value).toISOString();
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Reads a record as the API server answers it. The schema the API server
 * enforces makes most of these checks moot; they are here so that a record
 * edited by hand into something else reads as a clear error, not a crash.
 */
export function parseRecord(value: unknown): InstanceRecord {
  if (!isObject(value) || !isObject(value.metadata) || !isObject(value.spec)) throw new TypeError('not an Instance record');
  const metadata = value.metadata;
  const spec = value.spec;
  const status = isObject(value.status) ? value.status : {};
  const owner = isObject(spec.owner) ? spec.owner : {};
  const disk = isObject(spec.disk) ? spec.disk : {};
  const operation = isObject(status.operation) ? status.operation : undefined;
  const queue =
    isObject(spec.queue) && typeof spec.queue.since === 'string' && typeof spec.queue.leaseSeconds === 'number'
      ? {
          queue: {
            since: spec.queue.since,
            leaseSeconds: spec.queue.leaseSeconds,
            ...(typeof spec.queue.timeoutAt === 'string' ? { timeoutAt: spec.queue.timeoutAt } : {}),
          },
        }
      : {};
  const stringMap = (map: unknown): Record<string, string> =>
    isObject(map) ? Object.fromEntries(Object.entries(map).filter((entry): entry is [string, string] => typeof entry[1] === 'string')) : {};
  const optional = <K extends string>(key: K, v: unknown): Partial<Record<K, string>> =>
    typeof v === 'string' ? ({ [key]: v } as Record<K, string>) : {};
  const name = text(metadata.name) ?? '';
  const creationTimestamp =
    metadata.creationTimestamp instanceof Date ? metadata.creationTimestamp.toISOString() : text(metadata.creationTimestamp);
  return {
    apiVersion: RECORD_API_VERSION,
    kind: 'Instance',
    metadata: {
      name,
      ...optional('uid', metadata.uid),
      ...optional('resourceVersion', metadata.resourceVersion),
      ...(creationTimestamp ? { creationTimestamp } : {}),
      labels: stringMap(metadata.labels),
    },
    spec: {
      owner: { email: text(owner.email) ?? '', ...optional('subject', owner.subject) },
      ...optional('creator', spec.creator),
      collaborators: Array.isArray(spec.collaborators) ? spec.collaborators.filter((e): e is string => typeof e === 'string') : [],
      parameters: stringMap(spec.parameters),
      mountName: text(spec.mountName) ?? '',
      version: text(spec.version) ?? '',
      createdAt: text(spec.createdAt) ?? creationTimestamp ?? '',
      ...optional('expiresAt', spec.expiresAt),
      ...optional('keyHash', spec.keyHash),
      ...(typeof spec.replicas === 'number' ? { replicas: spec.replicas } : {}),
      disk: {
        name: text(disk.name) ?? name,
        zone: text(disk.zone) ?? '',
        ...optional('source', disk.source),
        ...(typeof disk.pooled === 'boolean' ? { pooled: disk.pooled } : {}),
      },
      ...queue,
    },
    status: {
      phase: isPhase(status.phase) ? status.phase : initialPhase(queue),
      ...(operation && typeof operation.kind === 'string' && typeof operation.holder === 'string' && typeof operation.deadline === 'string'
        ? {
            operation: {
              kind: operation.kind as OperationKind,
              holder: operation.holder,
              deadline: operation.deadline,
              from: isPhase(operation.from) ? operation.from : 'running',
            },
          }
        : {}),
      ...optional('destroyedAt', status.destroyedAt),
      ...optional('previousOwner', status.previousOwner),
    },
  };
}
