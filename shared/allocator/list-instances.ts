import type { CallerIdentity } from '../auth/identity.ts';
import { PermissionDeniedError } from '../errors.ts';
import { byNewestFirst, instanceFromDeployment, type Instance } from '../instances/instance.ts';
import { instanceSelector } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import type { AllocatorDeps } from './deps.ts';
import { isAdmin, mayAccess } from './access.ts';

const PAGE_SIZE = 500;

/**
 * The caller's instances, newest first, selected by label on the server so
 * the cost follows the caller's own instances. Admins may ask for all.
 */
export async function listInstances(deps: Pick<AllocatorDeps, 'config' | 'cluster'>, caller: CallerIdentity, options: { all: boolean }): Promise<Instance[]> {
  const { config } = deps;
  if (options.all && !isAdmin(config.admins, caller)) throw new PermissionDeniedError('only admins may list all instances');
  const cluster = await deps.cluster();
  const selector = instanceSelector(config.serverName, options.all ? undefined : ownerHashOf(caller.email));
  const instances: Instance[] = [];
  let continueToken: string | undefined;
  do {
    const page = await cluster.listDeployments({ labelSelector: selector, limit: PAGE_SIZE, ...(continueToken ? { continueToken } : {}) });
    for (const deployment of page.items) {
      if (mayAccess(deployment, caller, config)) instances.push(instanceFromDeployment(deployment));
    }
    continueToken = page.continueToken;
  } while (continueToken);
  return instances.sort(byNewestFirst);
}
