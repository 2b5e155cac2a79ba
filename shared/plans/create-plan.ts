import type { V1Deployment } from '@kubernetes/client-node';
import type { CallerIdentity } from '../auth/identity.ts';
import { parameterDefaults, type ParameterDeclaration } from '../api/parameters.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import type { DiskSpec } from '../gce/disks.ts';
import { instanceFromDeployment, type Instance } from '../instances/instance.ts';
import { diskLabels } from '../instances/metadata.ts';
import { idempotencyKeyHash, idempotentInstanceName, newInstanceName, ownerHashOf } from '../instances/naming.ts';
import type { DeploymentTemplate } from '../template/deployment-template.ts';
import { buildInstance } from './deployment.ts';
import type { InstanceObject } from './instance-objects.ts';
import { recordFromDeployment, type InstanceRecord } from '../model/record.ts';
import { expiryFor, resolveLifetimeSeconds } from './lifetime.ts';
import type { QueuePlan } from './queue.ts';
import { slotPools, type SlotPool } from './slots.ts';

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
