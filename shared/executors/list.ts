import type { CallerIdentity } from '../auth/identity.ts';
import { mayAccessInstance, type AccessPolicy } from '../auth/policy.ts';
import { byNewestFirst, instanceFromDeployment, type Instance } from '../instances/instance.ts';
import { instanceSelector } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import type { ClusterClient } from '../kube/cluster.ts';

const PAGE_SIZE = 500;

/**
 * The caller's instances (all of them with `all`, which the policy grants only
 * to admins), newest first, selected by label on the server so the cost
 * follows the caller's own instances.
 */
export async function listInstances(cluster: ClusterClient, policy: Pick<AccessPolicy, 'serverName' | 'admins'>, caller: CallerIdentity, options: { all: boolean }): Promise<Instance[]> {
  const selector = instanceSelector(policy.serverName, options.all ? undefined : ownerHashOf(caller.email));
  const instances: Instance[] = [];
  let continueToken: string | undefined;
  do {
    const page = await cluster.listDeployments({ labelSelector: selector, limit: PAGE_SIZE, ...(continueToken ? { continueToken } : {}) });
    for (const deployment of page.items) {
      if (mayAccessInstance(policy, caller, deployment)) instances.push(instanceFromDeployment(deployment));
    }
    continueToken = page.continueToken;
  } while (continueToken);
  return instances.sort(byNewestFirst);
}
