import type { V1Deployment } from '@kubernetes/client-node';
import type { ParameterDeclaration } from '../api/parameters.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import { ANNOTATIONS, LEGACY_ANNOTATIONS, zoneOf } from '../instances/metadata.ts';
import { collaboratorsOf, collaboratorsPatch } from '../instances/sharing.ts';
import type { DeploymentTemplate } from '../template/deployment-template.ts';
import { buildInstanceDeployment, parametersToRenderAgain } from './deployment.ts';

/** What rendering an instance's template again reads of the settings; the rest comes from the instance itself. */
export type AccessConfig = Pick<ServiceConfig, 'serverName' | 'admins' | 'accessListFormat' | 'version'> & {
  readonly compute: { readonly zone: string };
  /** The parameters declared now: one the instance was made without gets its default. */
  readonly parameters?: readonly ParameterDeclaration[];
};

/** Who an instance is to belong to and be shared with. */
export interface AccessChange {
  /** A new owner: the email, and the account id if known (unknown until their first call: see `pinnedOwnerPatch`). */
  readonly owner?: { readonly email: string; readonly subject?: string };
  readonly collaborators: readonly string[];
  /** Who made the instance: its record's creator, or its owner until it changes hands (the template's CreatorInfo). */
  readonly creator: string;
}

/**
 * The merge patch that gives an instance a new owner or new collaborators:
 * its template rendered again with the new access list (and owner hash), and
 * Allocator's labels and annotations to match. Everything else is the
 * instance's own (name, zone, mount name, version, creation time, expiry,
 * replicas, parameters), so a suspended instance stays suspended; a running one
 * restarts its pod, since its template changed, and keeps its disk. Who made
 * it and who had it before are the record's alone: the annotations an
 * earlier release kept of them are removed. Pure.
 */
export function accessPatch(template: DeploymentTemplate, config: AccessConfig, deployment: V1Deployment, change: AccessChange): object {
  const annotations = deployment.metadata?.annotations ?? {};
  const name = deployment.metadata?.name ?? '';
  const ownerEmail = change.owner?.email ?? annotations[ANNOTATIONS.owner] ?? '';
  const ownerSubject = change.owner ? change.owner.subject : annotations[ANNOTATIONS.ownerSubject];
  const mountName = annotations[ANNOTATIONS.mountName] ?? name;
  const expiresAt = annotations[ANNOTATIONS.expiresAt];
  // A transfer drops the old owner's Idempotency-Key: their create retried with it must not answer someone else's instance.
  const keyHash = change.owner ? undefined : annotations[ANNOTATIONS.idempotencyKey];
  const rendered = buildInstanceDeployment(template, {
    serverName: config.serverName,
    name,
    diskZone: zoneOf(deployment) ?? config.compute.zone,
    ownerEmail,
    ownerSubject: ownerSubject ?? '',
    creatorEmail: change.creator,
    admins: config.admins,
    collaborators: change.collaborators,
    accessListFormat: config.accessListFormat,
    mountRoot: mountName === name ? '' : mountName.slice(0, -(name.length + 1)),
    version: annotations[ANNOTATIONS.version] ?? config.version,
    createdAt: annotations[ANNOTATIONS.createdAt] ?? '',
    ...(keyHash ? { idempotencyKeyHash: keyHash } : {}),
    ...(expiresAt ? { expiresAt } : {}),
    parameters: parametersToRenderAgain(annotations, config.parameters),
  });
  const shared = collaboratorsPatch(deployment, change.collaborators);
  return {
    metadata: {
      labels: { ...rendered.metadata?.labels, ...shared.labels },
      annotations: {
        ...rendered.metadata?.annotations,
        ...shared.annotations,
        [ANNOTATIONS.ownerSubject]: ownerSubject ?? null,
        [ANNOTATIONS.replicas]: annotations[ANNOTATIONS.replicas] ?? rendered.metadata?.annotations?.[ANNOTATIONS.replicas] ?? null,
        [LEGACY_ANNOTATIONS.creator]: null,
        [LEGACY_ANNOTATIONS.previousOwner]: null,
        ...(change.owner ? { [ANNOTATIONS.idempotencyKey]: null } : {}),
      },
    },
    spec: { ...rendered.spec, replicas: deployment.spec?.replicas ?? rendered.spec?.replicas },
  };
}

/** The collaborators an instance keeps when it passes to `owner`: no one is their own collaborator. */
export function collaboratorsAfterTransfer(deployment: V1Deployment, owner: string): string[] {
  return collaboratorsOf(deployment).filter((email) => email !== owner);
}

/**
 * The patch that pins the owner's account id at their first call after a
 * transfer, when only their email was known: from then on an address given
 * to another account owns nothing, as for an instance they created.
 */
export function pinnedOwnerPatch(subject: string): object {
  return { metadata: { annotations: { [ANNOTATIONS.ownerSubject]: subject } } };
}
