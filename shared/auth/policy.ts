import type { V1Deployment } from '@kubernetes/client-node';
import type { OperationId, Requirement } from '../api/operations.ts';
import { PermissionDeniedError } from '../errors.ts';
import { isOwnedBy } from '../instances/instance.ts';
import { LABELS } from '../instances/metadata.ts';
import { isCollaborator } from '../instances/sharing.ts';
import { isAllowedCaller, namesAccount } from './allowed-callers.ts';
import type { CallerIdentity } from './identity.ts';

/**
 * Who may do what, decided here and nowhere else: who may call at all
 * (ALLOCATOR_ALLOWED_CALLERS), which operations are for admins, and who may
 * touch an instance (its owner or an admin).
 */
export interface AccessPolicy {
  readonly serverName: string;
  /** Emails or `sub:<id>` entries. */
  readonly admins: readonly string[];
  readonly allowedCallers: readonly string[];
  /** Domains whose emails name an account only with a matching `hd` (ALLOCATOR_WORKSPACE_DOMAINS, and every `*@domain` pattern's). */
  readonly workspaceDomains: readonly string[];
}

export type InstancePolicy = Pick<AccessPolicy, 'serverName' | 'admins' | 'workspaceDomains'>;

/** Whether the caller's account is an admin's, whatever its token may do. */
export function isAdminAccount(policy: Pick<AccessPolicy, 'admins' | 'workspaceDomains'>, caller: CallerIdentity): boolean {
  return policy.admins.some((entry) => namesAccount(entry, caller, policy.workspaceDomains));
}

/** Whether the caller acts as an admin: an admin's account, with a token bound to this allocator. */
export function isAdmin(policy: Pick<AccessPolicy, 'admins' | 'workspaceDomains'>, caller: CallerIdentity): boolean {
  return isAdminAccount(policy, caller) && caller.sharedAudience !== true;
}

/** The 403 of a token minted for gcloud where one bound to this allocator is needed: it may have come from any service its holder calls. */
export function needsBoundToken(action: string): PermissionDeniedError {
  return new PermissionDeniedError(
    `a token minted for gcloud acts on its holder's own instances only, and never changes who can reach one, since any service you call with one receives it; to ${action}, sign in with \`allocator login\` (or send a token for this allocator's audience)`,
  );
}

/**
 * The operations that change who can reach an instance. A token minted for
 * gcloud may not run them, even on its holder's own instance: any service
 * that received it could share the instance with itself, or take it.
 */
export const ACCESS_CHANGES = ['share', 'unshare', 'transfer'] as const satisfies readonly OperationId[];

/** Throws the 403 naming `allocator login` when `operation` changes who can reach an instance and the token is gcloud's. */
export function checkMayChangeAccess(caller: CallerIdentity, operation: OperationId): void {
  if (caller.sharedAudience && (ACCESS_CHANGES as readonly OperationId[]).includes(operation))
    throw needsBoundToken(`${operation} an instance`);
}

/**
 * Lets a request on, or throws a 403 naming what is missing. Runs before the
 * operation reads its body.
 */
export function authorize(policy: AccessPolicy, caller: CallerIdentity, requirement: Requirement, action: string): void {
  if (!isAllowedCaller(caller, policy)) {
    throw new PermissionDeniedError(`${caller.email} may not use this allocator; ask its admins to add you to ALLOCATOR_ALLOWED_CALLERS`);
  }
  if (requirement !== 'admin') return;
  if (!isAdminAccount(policy, caller)) throw new PermissionDeniedError(`only admins may ${action}`);
  if (caller.sharedAudience) throw needsBoundToken(action);
}

/**
 * Whether `caller` may see and change the instance behind `deployment`, all
 * of it (destroy, reset, share, transfer): its owner or an admin, on this
 * allocator only.
 */
export function mayAccessInstance(policy: InstancePolicy, caller: CallerIdentity, deployment: V1Deployment): boolean {
  if (deployment.metadata?.labels?.[LABELS.allocator] !== policy.serverName) return false;
  return isAdmin(policy, caller) || isOwnedBy(deployment, caller);
}

/**
 * Throws the 403 naming `allocator login` where only the caller's token keeps
 * them from `object` (an instance, or a destroyed one's record): their
 * account is an admin's, the token was minted for gcloud, and the object is
 * this allocator's and not theirs. An admin is told how to act on it, rather
 * than given the 404 of one that does not exist.
 */
export function checkBoundTokenFor(
  policy: InstancePolicy,
  caller: CallerIdentity,
  object: Pick<V1Deployment, 'metadata'> | undefined,
  action: string,
): void {
  if (object === undefined || !caller.sharedAudience || !isAdminAccount(policy, caller)) return;
  if (object.metadata?.labels?.[LABELS.allocator] !== policy.serverName || isOwnedBy(object, caller)) return;
  throw needsBoundToken(action);
}

/** Whether `caller` is one the owner shares the instance with: they may see, extend, suspend and resume it. */
export function isSharedWith(policy: InstancePolicy, caller: CallerIdentity, deployment: V1Deployment): boolean {
  return (
    deployment.metadata?.labels?.[LABELS.allocator] === policy.serverName && isCollaborator(deployment, caller, policy.workspaceDomains)
  );
}
