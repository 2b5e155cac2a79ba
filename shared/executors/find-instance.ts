import type { V1Deployment } from '@kubernetes/client-node';
import { mayAccessInstance } from '../auth/policy.ts';
import { NotFoundError } from '../errors.ts';
import type { CallerContext } from './context.ts';

/**
 * The Deployment of an instance the caller may touch. A missing instance and
 * one the caller may not touch get the same 404, so names of other users'
 * instances are not revealed.
 */
export async function findInstance(context: CallerContext, name: string): Promise<V1Deployment> {
  const deployment = await context.cluster.readDeployment(name);
  if (!deployment || !mayAccessInstance(context.policy, context.caller, deployment)) throw new NotFoundError(`instance ${name} not found`);
  return deployment;
}
