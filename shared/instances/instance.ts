import type { V1Deployment } from '@kubernetes/client-node';
import type { Endpoint, Instance, InstanceState, Problem } from '../api-types.ts';
import type { CallerIdentity } from '../auth/identity.ts';
import type { Phase } from '../model/transitions.ts';
import { ANNOTATIONS, instanceParameters, LABELS } from './metadata.ts';
import { ownerHashOf } from './naming.ts';
import { collaboratorsOf } from './sharing.ts';

export type { Instance };

/**
 * Reads an instance back from its Deployment, with what its pods say (none
 * when they were not read) and, when its Services were read, its endpoints.
 */
export function instanceFromDeployment(
  deployment: V1Deployment,
  problems: readonly Problem[] = [],
  endpoints?: readonly Endpoint[],
): Instance {
  const annotations = deployment.metadata?.annotations ?? {};
  const name = deployment.metadata?.name ?? '';
  return {
    name,
    owner: annotations[ANNOTATIONS.owner] ?? '',
    mountName: annotations[ANNOTATIONS.mountName] ?? '',
    accessList: parseAccessList(annotations[ANNOTATIONS.accessList]),
    creationTime: annotations[ANNOTATIONS.createdAt] ?? toIso(deployment.metadata?.creationTimestamp),
    replicas: deployment.spec?.replicas ?? 0,
    readyReplicas: deployment.status?.readyReplicas ?? 0,
    version: annotations[ANNOTATIONS.version] ?? '',
    disk: annotations[ANNOTATIONS.disk] ?? name,
    expiresAt: annotations[ANNOTATIONS.expiresAt] ?? null,
    parameters: instanceParameters(annotations),
    state: stateOf(deployment, problems),
    problems: [...problems],
    collaborators: collaboratorsOf(deployment),
    ...(endpoints ? { endpoints: [...endpoints] } : {}),
  };
}

/** Where an instance is: being deleted, scaled to 0, ready, held up by a problem, or on its way. */
export function stateOf(deployment: V1Deployment, problems: readonly Problem[]): InstanceState {
  if (deployment.metadata?.deletionTimestamp) return 'deleting';
  if (deployment.spec?.replicas === 0) return 'suspended';
  if (isAvailable(deployment)) return 'ready';
  return problems.length > 0 ? 'failing' : 'starting';
}

/**
 * The phase a Deployment shows, for a list that reads Deployments alone: an
 * operation in progress is known to the record only, and refuses for itself.
 */
export function phaseOfDeployment(deployment: V1Deployment): Phase {
  if (deployment.metadata?.deletionTimestamp) return 'destroying';
  return deployment.spec?.replicas === 0 ? 'suspended' : 'running';
}

/** Whether every wanted replica of the current generation is available. */
export function isAvailable(deployment: V1Deployment): boolean {
  const wanted = deployment.spec?.replicas ?? 1;
  const status = deployment.status;
  return (
    (status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1) &&
    (status?.availableReplicas ?? 0) >= wanted &&
    (status?.updatedReplicas ?? 0) >= wanted
  );
}

/** Whether `email` owns the instance behind `deployment`. */
/**
 * Whether `caller` owns the instance: the owner label and annotation name its
 * email and, where the instance records its owner's account id, the id is
 * the caller's too (an address given to another account owns nothing).
 */
export function isOwnedBy(deployment: V1Deployment, caller: Pick<CallerIdentity, 'email' | 'subject'>): boolean {
  const annotations = deployment.metadata?.annotations ?? {};
  const subject = annotations[ANNOTATIONS.ownerSubject];
  return (
    deployment.metadata?.labels?.[LABELS.ownerHash] === ownerHashOf(caller.email) &&
    annotations[ANNOTATIONS.owner] === caller.email &&
    (subject === undefined || subject === caller.subject)
  );
}

function parseAccessList(text: string | undefined): { In: string[] } {
  try {
    const parsed = JSON.parse(text ?? '') as { In?: unknown };
    if (Array.isArray(parsed.In)) return { In: parsed.In.filter((entry): entry is string => typeof entry === 'string') };
  } catch {
    // an instance edited by hand: show an empty list rather than fail the whole listing
  }
  return { In: [] };
}

function toIso(value: Date | string | undefined): string {
  if (value === undefined) return '';
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

/** Newest first, then by name for a stable order. */
export function byNewestFirst(a: Instance, b: Instance): number {
  return b.creationTime.localeCompare(a.creationTime) || a.name.localeCompare(b.name);
}
