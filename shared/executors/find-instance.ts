import type { V1Deployment } from '@kubernetes/client-node';
import { checkBoundTokenFor, isSharedWith, mayAccessInstance } from '../auth/policy.ts';
import { ANNOTATIONS } from '../instances/metadata.ts';
import { isOwnedBy } from '../instances/instance.ts';
import { NotFoundError, PermissionDeniedError } from '../errors.ts';
import { pinnedOwnerPatch } from '../plans/access-plan.ts';
import type { CallerContext } from './context.ts';

/** Who besides the owner and the admins may run an operation: its collaborators (extend, suspend, resume), or nobody. */
export interface FindOptions {
  readonly collaborators?: boolean;
}

/**
 * The Deployment of an instance the caller may touch. A missing instance and
 * one the caller may not touch get the same 404, so names of other users'
 * instances are not revealed; a collaborator, who sees it, gets a 403 for
 * what only its owner or an admin may do.
 */
export async function findInstance(context: CallerContext, name: string, options: FindOptions = {}): Promise<V1Deployment> {
  const deployment = await context.cluster.readDeployment(name);
  const { policy, caller } = context;
  checkBoundTokenFor(policy, caller, deployment, "act on other people's instances");
  if (deployment && mayAccessInstance(policy, caller, deployment)) return await pinOwnerSubject(context, deployment);
  if (deployment && isSharedWith(policy, caller, deployment)) {
    if (options.collaborators) return deployment;
    throw new PermissionDeniedError(`instance ${name} is shared with you; only its owner or an admin may do that`);
  }
  throw new NotFoundError(`instance ${name} not found`);
}

/**
 * An instance given to its owner by transfer knows only their email: their
 * account id is pinned at their first call on it. A failed pin is tried
 * again at the next call.
 */
async function pinOwnerSubject(context: CallerContext, deployment: V1Deployment): Promise<V1Deployment> {
  const annotations = deployment.metadata?.annotations ?? {};
  if (annotations[ANNOTATIONS.ownerSubject] !== undefined || annotations[ANNOTATIONS.creator] === undefined) return deployment;
  if (!isOwnedBy(deployment, context.caller)) return deployment;
  try {
    return await context.cluster.patchDeployment(deployment.metadata?.name ?? '', pinnedOwnerPatch(context.caller.subject));
  } catch {
    return deployment;
  }
}
