import type { V1Deployment } from '@kubernetes/client-node';
import { isAdminAccount, mayAccessInstance, needsBoundToken } from '../auth/policy.ts';
import { LABELS } from '../instances/metadata.ts';
import { NotFoundError } from '../errors.ts';
import type { CallerContext } from './context.ts';

/**
 * The Deployment of an instance the caller may touch. A missing instance and
 * one the caller may not touch get the same 404, so names of other users'
 * instances are not revealed.
 */
export async function findInstance(context: CallerContext, name: string): Promise<V1Deployment> {
  const deployment = await context.cluster.readDeployment(name);
  const { policy, caller } = context;
  if (deployment && !mayAccessInstance(policy, caller, deployment) && caller.sharedAudience && isAdminAccount(policy, caller)) {
    // An admin would see it with a token bound to this allocator: say how, rather than pretend it is absent.
    if (deployment.metadata?.labels?.[LABELS.allocator] === policy.serverName) throw needsBoundToken("act on other people's instances");
  }
  if (!deployment || !mayAccessInstance(policy, caller, deployment)) throw new NotFoundError(`instance ${name} not found`);
  return deployment;
}
