import type { V1Deployment } from '@kubernetes/client-node';
import type { CallerIdentity } from '../auth/identity.ts';
import { mayAccessInstance, type AccessPolicy } from '../auth/policy.ts';
import { NotFoundError } from '../errors.ts';
import type { ClusterClient } from '../kube/cluster.ts';

/**
 * The Deployment of an instance the caller may touch. A missing instance and
 * one the caller may not touch get the same 404, so names of other users'
 * instances are not revealed.
 */
export async function findInstance(
  cluster: ClusterClient,
  policy: Pick<AccessPolicy, 'serverName' | 'admins'>,
  caller: CallerIdentity,
  name: string,
): Promise<V1Deployment> {
  const deployment = await cluster.readDeployment(name);
  if (!deployment || !mayAccessInstance(policy, caller, deployment)) throw new NotFoundError(`instance ${name} not found`);
  return deployment;
}
