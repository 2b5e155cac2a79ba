import type { CallerIdentity } from '../auth/identity.ts';
import type { AccessPolicy } from '../auth/policy.ts';
import type { ExecutionContext } from './context.ts';
import { findInstance } from './find-instance.ts';
import { teardownInstance } from './teardown.ts';

/** Destroys one instance the caller may touch: its Deployment (foreground, so its pods go first), then its disk, then its slots. */
export async function destroyInstance(context: ExecutionContext, policy: Pick<AccessPolicy, 'serverName' | 'admins'>, caller: CallerIdentity, name: string): Promise<void> {
  await findInstance(context.cluster, policy, caller, name);
  await teardownInstance(context, name);
}
