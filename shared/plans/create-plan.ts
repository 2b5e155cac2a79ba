import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import { AbortedError, AlreadyExistsError } from '../errors.ts';
import type { CallerIdentity } from '../auth/identity.ts';
import { parameterDefaults, type ParameterDeclaration } from '../api/parameters.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import type { DiskSpec } from '../gce/disks.ts';
import { instanceFromDeployment, type Instance } from '../instances/instance.ts';
import { ANNOTATIONS, diskLabels, instanceParameters, LABELS } from '../instances/metadata.ts';
import { idempotencyKeyHash, idempotentInstanceName, newInstanceName, ownerHashOf } from '../instances/naming.ts';
import type { DeploymentTemplate } from '../template/deployment-template.ts';
import { buildInstance } from './deployment.ts';
import type { InstanceObject } from './instance-objects.ts';
import { recordFromDeployment, type InstanceRecord } from '../model/record.ts';
import { expiryFor, resolveLifetimeSeconds } from './lifetime.ts';
import type { QueuePlan } from './queue.ts';
import { SLOT_LABEL, slotPools, type SlotPool } from './slots.ts';

/** What a caller asks of create, parsed. */
export interface CreateRequest {
  /** Wait until the Deployment is available. */
  readonly wait: boolean;
  /** How long, at most (the caller's ask, within the configured limit: see `waitMsFor`). */
  readonly waitMs: number;
  /** Seconds until the sweep destroys the instance; default from the configuration; 0: never. */
  readonly lifetimeSeconds?: number;
  /** A retry with the same key gets the same instance, not a second one. */
  readonly idempotencyKey?: string;
  /** The value of every declared parameter, checked and with defaults filled in (see `parametersField`); default: the defaults. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** At a limit, wait in line for a slot rather than answer 429. */
  readonly queue?: boolean;
  /** With `queue`: give up after this long in line. */
  readonly queueTimeoutSeconds?: number;
}

export type CreateConfig = Pick<
  ServiceConfig,
  'serverName' | 'mountRoot' | 'version' | 'admins' | 'accessListFormat' | 'limits' | 'disk' | 'lifetime' | 'waitTimeoutMs' | 'queue'
> & {
  /** Where the disks are: the pods are pinned to that zone. */
  readonly compute: { readonly zone: string };
  /** What a create may choose; none by default. */
  readonly parameters?: readonly ParameterDeclaration[];
};

export type { DiskSpec };

/** Everything one create will make, decided before any call. */
export interface CreatePlan {
  readonly name: string;
  /** Hash of caller and Idempotency-Key, when the create has one. */
  readonly idempotencyKeyHash?: string;
  /** The instance's parameters: a replay of its key must ask for the same. */
  readonly parameters: Readonly<Record<string, string>>;
  /** The instance's creation time, as its annotation holds it; also marks the Deployment as this try's. */
  readonly createdAt: string;
  readonly slots: { readonly user: SlotPool; readonly global: SlotPool };
  readonly disk: DiskSpec;
  /** The whole manifest sent to the API server. */
  readonly deployment: V1Deployment;
  /** The template's Services and ConfigMaps, labelled, made after the Deployment (owned by the record once it exists). */
  readonly objects: readonly InstanceObject[];
  /** What the caller sees once the Deployment exists (before it is ready). */
  readonly instance: Instance;
  readonly wait: boolean;
  readonly waitMs: number;
  /** Present when the create waits in line at a limit. */
  readonly queue?: QueuePlan;
}

export interface CreateInputs {
  readonly config: CreateConfig;
  readonly template: DeploymentTemplate;
  readonly caller: CallerIdentity;
  readonly request: CreateRequest;
  readonly nowMs: number;
  /** Random bytes: the name of a create without a key, and every try's slot holder. */
  readonly random: (bytes: number) => Buffer;
  /** The instance's name when it is decided elsewhere: a claimed pool disk's. Default: from the key, or drawn. */
  readonly name?: string;
}

/** Turns a create request into its plan. Pure: the clock and randomness come in. */
export function planCreate(inputs: CreateInputs): CreatePlan {
  const { config, caller, request, nowMs } = inputs;
  const key = request.idempotencyKey;
  const keyHash = key === undefined ? undefined : idempotencyKeyHash(caller.email, key);
  const name =
    inputs.name ??
    (key === undefined
      ? newInstanceName(config.serverName, () => inputs.random(4))
      : idempotentInstanceName(config.serverName, caller.email, key));
  const ownerHash = ownerHashOf(caller.email);
  const createdAt = new Date(nowMs).toISOString();
  const expiresAt = expiryFor(resolveLifetimeSeconds(request.lifetimeSeconds, config.lifetime), nowMs);
  const parameters = { ...(request.parameters ?? parameterDefaults(config.parameters ?? [])) };
  const { deployment, objects } = buildInstance(inputs.template, {
    serverName: config.serverName,
    name,
    diskZone: config.compute.zone,
    ownerEmail: caller.email,
    ownerSubject: caller.subject,
    admins: config.admins,
    accessListFormat: config.accessListFormat,
    mountRoot: config.mountRoot,
    version: config.version,
    createdAt,
    ...(keyHash ? { idempotencyKeyHash: keyHash } : {}),
    ...(expiresAt ? { expiresAt } : {}),
    parameters,
  });
  return {
    name,
    ...(keyHash ? { idempotencyKeyHash: keyHash } : {}),
    parameters,
    createdAt,
    slots: slotPools({
      serverName: config.serverName,
      ownerHash,
      instance: name,
      attempt: inputs.random(4).toString('hex'),
      limits: config.limits,
      random: inputs.random(4).readUInt32BE(0),
    }),
    disk: {
      name,
      sizeGb: config.disk.sizeGb,
      type: config.disk.type,
      labels: diskLabels({ serverName: config.serverName, ownerHash, name }),
      ...(config.disk.source ? { source: { ...config.disk.source } } : {}),
    },
    deployment,
    objects,
    instance: instanceFromDeployment(deployment),
    wait: request.wait,
    waitMs: request.waitMs,
    ...(request.queue
      ? {
          queue: {
            ...config.queue,
            ...(request.queueTimeoutSeconds === undefined ? {} : { timeoutMs: request.queueTimeoutSeconds * 1000 }),
          },
        }
      : {}),
  };
}

/**
 * The record a create writes: what its Deployment says, named as the plan
 * names it, with the disk's source and whether the disk came from the pool.
 */
export function recordOfPlan(plan: CreatePlan, input: { serverName: string; pooled: boolean }): InstanceRecord {
  const fromDeployment = recordFromDeployment(plan.deployment, input.serverName);
  const source = plan.disk.source ? Object.values(plan.disk.source).find((value): value is string => typeof value === 'string') : undefined;
  return {
    ...fromDeployment,
    spec: {
      ...fromDeployment.spec,
      disk: { ...fromDeployment.spec.disk, ...(plan.disk.source ? { source: source ?? '' } : {}), pooled: input.pooled },
    },
  };
}

// A create sent again with its Idempotency-Key: what answers it, and what an earlier try left.

/** How long an Idempotency-Key keeps answering with the instance it made. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * An existing instance answers a retried create only if that create made it,
 * recently, with the same parameters (defaults filled in); otherwise a 409
 * that no retry fixes.
 */
export function checkReplay(
  existing: V1Deployment,
  retry: { keyHash: string; nowMs: number; parameters?: Readonly<Record<string, string>> },
): void {
  const annotations = existing.metadata?.annotations ?? {};
  if (annotations[ANNOTATIONS.idempotencyKey] !== retry.keyHash)
    throw new AlreadyExistsError('this Idempotency-Key was already used for another instance; use a new key');
  const createdAt = Date.parse(annotations[ANNOTATIONS.createdAt] ?? '');
  if (!(retry.nowMs - createdAt < IDEMPOTENCY_WINDOW_MS)) throw new AlreadyExistsError('this Idempotency-Key has expired; use a new key');
  const differing = differentParameters(instanceParameters(annotations), retry.parameters ?? {});
  if (differing.length > 0)
    throw new AlreadyExistsError(
      `this Idempotency-Key made ${existing.metadata?.name ?? 'an instance'} with other parameters (${differing.join(', ')}): a different request; use a new key`,
    );
}

/** The names whose values differ between two sets of parameters, sorted. */
function differentParameters(made: Readonly<Record<string, string>>, asked: Readonly<Record<string, string>>): string[] {
  const names = new Set([...Object.keys(made), ...Object.keys(asked)]);
  return [...names].filter((name) => made[name] !== asked[name]).sort();
}

/**
 * What the parts of an instance found before its Deployment exists mean:
 * made by a create still running (`in-progress`), or left by one that was
 * interrupted (`interrupted`: older than the sweep's grace period, the same
 * rule the sweep uses to call them orphans).
 */
export function judgeLeftovers(createdAtMs: readonly number[], nowMs: number, graceMs: number): 'none' | 'in-progress' | 'interrupted' {
  if (createdAtMs.length === 0) return 'none';
  return createdAtMs.some((at) => !(at < nowMs - graceMs)) ? 'in-progress' : 'interrupted';
}

/** The 409 a retry should wait out: until the parts found are either finished or old enough to be called leftovers. */
export function stillInProgress(what: string, createdAtMs: readonly number[], nowMs: number, graceMs: number): AbortedError {
  const known = createdAtMs.filter(Number.isFinite);
  const youngest = known.length > 0 ? Math.max(...known) : nowMs;
  const leftoverInSeconds = Math.max(1, Math.ceil((youngest + graceMs - nowMs) / 1000));
  return new AbortedError(
    `${what} is still in progress; retry shortly (if it was interrupted, its parts are cleared by a retry after ${leftoverInSeconds} s)`,
    { retryAfterSeconds: Math.min(5, leftoverInSeconds) },
  );
}

/**
 * The record of which instance a keyed create makes, when the name comes
 * from the disk pool rather than from the key: a Lease named after the key's
 * hash, made before the claim, so that a retry finds the name and only one
 * try's create of the record succeeds. It is labelled as one of the
 * instance's slots (kind `key`, which no limit counts), so its destroy
 * deletes it, and the sweep removes one left by an interrupted create.
 */
export function keyRecordName(serverName: string, keyHash: string): string {
  return `${serverName}-k-${keyHash.slice(0, 40)}`;
}

export function keyRecordLease(options: { serverName: string; keyHash: string; ownerHash: string; instance: string }): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: keyRecordName(options.serverName, options.keyHash), labels: keyRecordLabels(options) },
    spec: { holderIdentity: options.instance },
  };
}

/** A record's labels: those of a slot of kind `key`, for `instance`. */
export function keyRecordLabels(options: { serverName: string; ownerHash: string; instance: string }): Record<string, string> {
  return {
    [LABELS.allocator]: options.serverName,
    [SLOT_LABEL]: 'key',
    [LABELS.ownerHash]: options.ownerHash,
    [LABELS.instance]: options.instance,
  };
}
