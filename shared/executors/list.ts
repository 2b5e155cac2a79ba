import { mayAccessInstance } from '../auth/policy.ts';
import { byNewestFirst, instanceFromDeployment, type Instance } from '../instances/instance.ts';
import { instanceSelector } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { allItems } from '../kube/cluster.ts';
import type { CallerContext } from './context.ts';
import { diagnose } from './instance-view.ts';

const PAGE_SIZE = 500;

/**
 * The caller's instances (all of them with `all`, which the policy grants only
 * to admins), newest first, selected by label on the server so the cost
 * follows the caller's own instances, with what the pods of those on their
 * way up say.
 */
export async function listInstances(context: CallerContext, request: { readonly all: boolean }): Promise<Instance[]> {
  const { cluster, policy, caller } = context;
  const selector = instanceSelector(context.serverName, request.all ? undefined : ownerHashOf(caller.email));
  const listed = await allItems((continueToken) =>
    cluster.listDeployments({ labelSelector: selector, limit: PAGE_SIZE, ...(continueToken ? { continueToken } : {}) }),
  );
  const deployments = listed.filter((deployment) => mayAccessInstance(policy, caller, deployment));
  const problems = await diagnose(context, deployments);
  return deployments
    .map((deployment) => instanceFromDeployment(deployment, problems.get(deployment.metadata?.name ?? '') ?? []))
    .sort(byNewestFirst);
}
