import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';

/**
 * Labels and annotations Allocator itself puts on what it creates. Selection
 * and ownership rest on these, never on what a template chose to write.
 */
export const LABELS = {
  /** The allocator's server name: tells its objects from everything else in the namespace. */
  allocator: 'allocator.dev/allocator',
  ownerHash: 'allocator.dev/owner-hash',
  instance: 'allocator.dev/instance',
} as const;

export const ANNOTATIONS = {
  owner: 'allocator.dev/owner',
  /** The owner's Google account id (`sub`): an email can pass to another account, this cannot. Absent on instances made before it was recorded. */
  ownerSubject: 'allocator.dev/owner-sub',
  mountName: 'allocator.dev/mount-name',
  accessList: 'allocator.dev/access-list',
  version: 'allocator.dev/version',
  disk: 'allocator.dev/disk',
  /** Millisecond creation time: creationTimestamp has whole seconds, too coarse to order by. */
  createdAt: 'allocator.dev/created-at',
  /** When the sweep destroys the instance (ISO time); absent: never. */
  expiresAt: 'allocator.dev/expires-at',
  /** Hash of the creating request's Idempotency-Key, with the caller. */
  idempotencyKey: 'allocator.dev/idempotency-key-hash',
  /** The template's replica count, which resume and reset scale back to. */
  replicas: 'allocator.dev/replicas',
  /** Who the owner shares the instance with: a JSON list of emails (`shared/instances/sharing.ts`). */
  collaborators: 'allocator.dev/collaborators',
  /** The parameters the instance was made with, every declared one, as a JSON object; absent when none were declared. */
  parameters: 'allocator.dev/parameters',
  /** On a restore record: when its instance was destroyed (ISO time). */
  destroyedAt: 'allocator.dev/destroyed-at',
} as const;

/**
 * Annotations an earlier release kept on the Deployment, which the record now
 * holds: read once, into the record of an instance made before records
 * (`recordFromDeployment`), and removed by its next share or transfer.
 */
export const LEGACY_ANNOTATIONS = {
  /** Who created the instance, once it had been transferred (now `spec.creator`). */
  creator: 'allocator.dev/creator',
  /** Who had it before its last transfer (now `status.previousOwner`). */
  previousOwner: 'allocator.dev/previous-owner',
} as const;

/**
 * On the restore Lease of a release before the Instance record: the sweep,
 * or the restore of its instance, carries it over to a record in phase
 * destroyed (`shared/plans/restore-record.ts`).
 */
export const RESTORE_RECORD_LABEL = 'allocator.dev/restore-record';

/**
 * On a limit slot (a Lease): `user` or `global`. Slots are Leases of fixed
 * names because the API server lets only one create of a name succeed,
 * which keeps the limits exact (`shared/plans/slots.ts`).
 */
export const SLOT_LABEL = 'allocator.dev/slot';

/**
 * On the record of a create waiting in line (phase queued): the one selector
 * that lists the line. Its claim of the slots takes the label off, in the
 * same write that moves the record on to provisioning's spec.
 */
export const QUEUED_LABEL = 'allocator.dev/queued';

/**
 * On the queue ticket (a Lease) of a release before queued records: nothing
 * takes one now, and the sweep deletes those left once their waiter stopped
 * renewing them.
 */
export const LEGACY_TICKET_LABEL = 'allocator.dev/ticket';

/** On the lock Lease of a release before the Instance record: nothing takes one now, and the sweep deletes those left. */
export const LEGACY_LOCK_LABEL = 'allocator.dev/lock';
/** On such a lock: when it was taken (ISO time); with its Lease's duration, whether its holder could still be running. */
export const LEGACY_LOCKED_AT = 'allocator.dev/locked-at';

/** The label that lists an instance for a collaborator, as the owner hash label does for its owner: `<prefix><sha1 of the email>`. */
export const SHARED_LABEL_PREFIX = 'allocator.dev/shared-';

/** GCE label keys (lowercase, no dots or slashes). */
export const DISK_LABELS = {
  allocator: 'allocator',
  ownerHash: 'allocator-owner-hash',
  instance: 'allocator-instance',
  /** On a disk of the warm pool not yet claimed: the allocator's server name. */
  pool: 'allocator-pool',
  /** `free`, or `retiring` once the sweep has taken it to delete. */
  poolState: 'allocator-pool-state',
  /** What the disk was made like (`poolSpecHash`): a pool disk of another is replaced. Kept once claimed, for a give-back. */
  poolSpec: 'allocator-pool-spec',
  /** On a disk kept for a restore: when its instance was destroyed, in whole seconds since the epoch (label values take no colons). */
  destroyedAt: 'allocator-destroyed-at',
} as const;

/**
 * On an instance's LoadBalancer Service: GKE makes it an internal load
 * balancer, reachable from the VPC only. Allocator writes it itself, so that a
 * template cannot ask for an external one (admission checks it too).
 */
export const INTERNAL_LOAD_BALANCER_ANNOTATION = 'networking.gke.io/load-balancer-type';
export const INTERNAL_LOAD_BALANCER = 'Internal';

/** On a pod template: its change makes a new rollout, as `kubectl rollout restart` writes it (restart). */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** The label GKE (and every cloud provider) puts on each node: its zone. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface InstanceMetadata {
  readonly serverName: string;
  /** The zone of the instance's disk, where its pods must run to attach it. */
  readonly diskZone: string;
  readonly name: string;
  readonly ownerEmail: string;
  readonly ownerSubject: string;
  readonly ownerHash: string;
  readonly mountName: string;
  readonly accessList: readonly string[];
  readonly version: string;
  readonly diskName: string;
  readonly createdAt: string;
  readonly idempotencyKeyHash?: string;
  readonly expiresAt?: string;
  /** The values of the declared parameters it was made with. */
  readonly parameters?: Readonly<Record<string, string>>;
}

/**
 * A copy of `deployment` carrying Allocator's labels and annotations. Its pods
 * carry the allocator and instance labels too, so that one list finds them.
 */
export function withInstanceMetadata(deployment: V1Deployment, meta: InstanceMetadata): V1Deployment {
  const copy = structuredClone(deployment);
  if (copy.spec?.template) {
    const pod = copy.spec.template;
    pod.metadata = {
      ...pod.metadata,
      labels: { ...pod.metadata?.labels, [LABELS.allocator]: meta.serverName, [LABELS.instance]: meta.name },
    };
    if (pod.spec) pod.spec = pinnedToZone(pod.spec, meta.diskZone);
  }
  copy.metadata = {
    ...copy.metadata,
    labels: {
      ...copy.metadata?.labels,
      [LABELS.allocator]: meta.serverName,
      [LABELS.ownerHash]: meta.ownerHash,
      [LABELS.instance]: meta.name,
    },
    annotations: {
      ...copy.metadata?.annotations,
      [ANNOTATIONS.owner]: meta.ownerEmail,
      [ANNOTATIONS.ownerSubject]: meta.ownerSubject,
      [ANNOTATIONS.mountName]: meta.mountName,
      [ANNOTATIONS.accessList]: JSON.stringify({ In: meta.accessList }),
      [ANNOTATIONS.version]: meta.version,
      [ANNOTATIONS.disk]: meta.diskName,
      [ANNOTATIONS.createdAt]: meta.createdAt,
      [ANNOTATIONS.replicas]: String(copy.spec?.replicas ?? 1),
      ...(meta.idempotencyKeyHash ? { [ANNOTATIONS.idempotencyKey]: meta.idempotencyKeyHash } : {}),
      ...(meta.expiresAt ? { [ANNOTATIONS.expiresAt]: meta.expiresAt } : {}),
      ...parametersAnnotation(meta.parameters ?? {}),
    },
  };
  return copy;
}

/** The annotation that keeps an instance's parameters, or none when it has none. */
export function parametersAnnotation(parameters: Readonly<Record<string, string>>): Record<string, string> {
  return Object.keys(parameters).length === 0 ? {} : { [ANNOTATIONS.parameters]: JSON.stringify(parameters) };
}

/**
 * The parameters an instance was made with, read back from its annotations
 * (a Deployment's `metadata.annotations`, or a copy of them kept elsewhere):
 * what re-rendering it must use. `{}` for an instance made without any; an
 * annotation edited into something else reads as `{}` too, minus its bad entries.
 */
export function instanceParameters(annotations: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const text = annotations?.[ANNOTATIONS.parameters];
  if (text === undefined) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}

/**
 * A copy of `podSpec` that runs only on nodes in `zone`: a zonal disk attaches
 * only there, and an inline volume gets no zone-aware scheduling of its own.
 * The zone is ANDed into each of the template's own required node terms.
 */
export function pinnedToZone(podSpec: V1PodSpec, zone: string): V1PodSpec {
  const inZone = { key: ZONE_LABEL, operator: 'In', values: [zone] };
  const required = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required?.nodeSelectorTerms?.length ? required.nodeSelectorTerms : [{}];
  return {
    ...podSpec,
    affinity: {
      ...podSpec.affinity,
      nodeAffinity: {
        ...podSpec.affinity?.nodeAffinity,
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: terms.map((term) => ({ ...term, matchExpressions: [...(term.matchExpressions ?? []), inZone] })),
        },
      },
    },
  };
}

/** The label selector of one owner's instances, or of all instances of this allocator. */
export function instanceSelector(serverName: string, ownerHash?: string): string {
  return ownerHash === undefined
    ? `${LABELS.allocator}=${serverName}`
    : `${LABELS.allocator}=${serverName},${LABELS.ownerHash}=${ownerHash}`;
}

export function diskLabels(meta: Pick<InstanceMetadata, 'serverName' | 'ownerHash' | 'name'>): Record<string, string> {
  return { [DISK_LABELS.allocator]: meta.serverName, [DISK_LABELS.ownerHash]: meta.ownerHash, [DISK_LABELS.instance]: meta.name };
}

/** The zone an instance's pods are pinned to, as create wrote it. */
export function zoneOf(deployment: V1Deployment): string | undefined {
  const terms = deployment.spec?.template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const term of terms ?? [])
    for (const expression of term.matchExpressions ?? []) if (expression.key === ZONE_LABEL) return expression.values?.[0];
  return undefined;
}
