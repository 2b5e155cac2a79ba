import type { V1Deployment } from '@kubernetes/client-node';
import { namesAccount } from '../auth/allowed-callers.ts';
import type { CallerIdentity } from '../auth/identity.ts';
import { ANNOTATIONS, LABELS, SHARED_LABEL_PREFIX } from './metadata.ts';
import { ownerHashOf } from './naming.ts';

/**
 * Who an instance is shared with. The emails are kept in one annotation, and
 * each also puts a label on the Deployment (`allocator.dev/shared-<sha1>`),
 * so that a collaborator's list selects their shared instances on the API
 * server, as the owner hash label does for an owner's.
 */
export function collaboratorsOf(deployment: V1Deployment): string[] {
  try {
    const parsed = JSON.parse(deployment.metadata?.annotations?.[ANNOTATIONS.collaborators] ?? '[]') as unknown;
    if (Array.isArray(parsed)) return parsed.filter((entry): entry is string => typeof entry === 'string');
  } catch {
    // edited by hand: shared with nobody, rather than a failed listing
  }
  return [];
}

/** The label key that lists an instance for `email`. */
export function sharedLabelKey(email: string): string {
  return `${SHARED_LABEL_PREFIX}${ownerHashOf(email)}`;
}

/** The selector of the instances shared with `email` on this allocator. */
export function sharedSelector(serverName: string, email: string): string {
  return `${LABELS.allocator}=${serverName},${sharedLabelKey(email)}`;
}

/**
 * Whether `caller` is one of the instance's collaborators. An email of a
 * Workspace domain names the account only with that domain's `hd`, as for
 * admins and allowed callers.
 */
export function isCollaborator(
  deployment: V1Deployment,
  caller: Pick<CallerIdentity, 'email' | 'subject' | 'kind' | 'hostedDomain'>,
  workspaceDomains: readonly string[],
): boolean {
  return (
    deployment.metadata?.labels?.[sharedLabelKey(caller.email)] !== undefined &&
    collaboratorsOf(deployment).some((email) => namesAccount(email, caller, workspaceDomains))
  );
}

/**
 * The merge patch of the metadata that says who an instance is shared with:
 * the annotation, a label for each collaborator, and null for each label of
 * someone no longer among them.
 */
export function collaboratorsPatch(
  deployment: V1Deployment,
  collaborators: readonly string[],
): {
  labels: Record<string, string | null>;
  annotations: Record<string, string | null>;
} {
  const labels: Record<string, string | null> = {};
  for (const key of Object.keys(deployment.metadata?.labels ?? {})) if (key.startsWith(SHARED_LABEL_PREFIX)) labels[key] = null;
  for (const email of collaborators) labels[sharedLabelKey(email)] = 'true';
  return {
    labels,
    annotations: { [ANNOTATIONS.collaborators]: collaborators.length > 0 ? JSON.stringify(collaborators) : null },
  };
}
