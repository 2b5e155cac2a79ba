import type { V1Deployment } from '@kubernetes/client-node';
import type { CallerIdentity } from '../auth/identity.ts';
import { isOwnedBy } from '../instances/instance.ts';
import { LABELS } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';

export function isAdmin(admins: readonly string[], caller: CallerIdentity): boolean {
  return admins.includes(caller.email);
}

/** Whether `caller` may see, extend and destroy the instance behind `deployment` of allocator `serverName`. */
export function mayAccess(deployment: V1Deployment, caller: CallerIdentity, options: { serverName: string; admins: readonly string[] }): boolean {
  if (deployment.metadata?.labels?.[LABELS.allocator] !== options.serverName) return false;
  return isAdmin(options.admins, caller) || isOwnedBy(deployment, caller.email, ownerHashOf(caller.email));
}
