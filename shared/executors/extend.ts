import type { CallerIdentity } from '../auth/identity.ts';
import type { AccessPolicy } from '../auth/policy.ts';
import type { Clock } from '../clock.ts';
import type { Instance } from '../instances/instance.ts';
import { checkNotDeleting } from '../plans/lifecycle.ts';
import { instanceView } from './diagnose.ts';
import { ANNOTATIONS } from '../instances/metadata.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import { findInstance } from './find-instance.ts';

/** Sets the expiry of an instance the caller may touch; undefined removes it (never expires). */
export async function extendInstance(
  cluster: ClusterClient,
  clock: Clock,
  policy: Pick<AccessPolicy, 'serverName' | 'admins'>,
  caller: CallerIdentity,
  request: { name: string; expiresAt: string | undefined },
): Promise<Instance> {
  const deployment = await findInstance(cluster, policy, caller, request.name);
  checkNotDeleting(deployment, 'be extended');
  const patched = await cluster.patchDeployment(request.name, {
    metadata: { annotations: { [ANNOTATIONS.expiresAt]: request.expiresAt ?? null } },
  });
  return await instanceView(cluster, clock, policy.serverName, patched);
}
