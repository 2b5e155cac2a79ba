import type { V1Deployment } from '@kubernetes/client-node';
import { PermissionDeniedError } from '../errors.ts';
import { isOwnedBy } from '../instances/instance.ts';
import { LABELS } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { isAllowedCaller } from './allowed-callers.ts';
import type { CallerIdentity } from './identity.ts';
import type { Requirement } from '../api/operations.ts';

/**
 * Who may do what, decided here and nowhere else: who may call at all
 * (ALLOCATOR_ALLOWED_CALLERS), which operations are for admins, and who may
 * touch an instance (its owner or an admin).
 */
export interface AccessPolicy {
  readonly serverName: string;
  readonly admins: readonly string[];
  readonly allowedCallers: readonly string[];
}

export function isAdmin(policy: Pick<AccessPolicy, 'admins'>, caller: CallerIdentity): boolean {
  return policy.admins.includes(caller.email);
}

/**
 * Lets a request on, or throws a 403 naming what is missing. Runs before the
 * operation reads its body.
 */
export function authorize(policy: AccessPolicy, caller: CallerIdentity, requirement: Requirement, operation: string): void {
  if (!isAllowedCaller(caller, policy.allowedCallers, policy.admins)) {
    throw new PermissionDeniedError(`${caller.email} may not use this allocator; ask its admins to add you to ALLOCATOR_ALLOWED_CALLERS`);
  }
  if (requirement === 'admin' && !isAdmin(policy, caller)) throw new PermissionDeniedError(`only admins may ${operation}`);
}

/** Whether `caller` may see and change the instance behind `deployment`: its owner or an admin, on this allocator only. */
export function mayAccessInstance(
  policy: Pick<AccessPolicy, 'serverName' | 'admins'>,
  caller: CallerIdentity,
  deployment: V1Deployment,
): boolean {
  if (deployment.metadata?.labels?.[LABELS.allocator] !== policy.serverName) return false;
  return isAdmin(policy, caller) || isOwnedBy(deployment, caller.email, ownerHashOf(caller.email));
}
