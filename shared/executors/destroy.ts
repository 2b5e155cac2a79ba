import type { CallerIdentity } from '../auth/identity.ts';
import type { AccessPolicy } from '../auth/policy.ts';
import type { ExecutionContext } from './context.ts';
import { findInstance } from './find-instance.ts';
import { withLock } from './lock.ts';
import { teardownInstance } from './teardown.ts';

/** Destroys one instance the caller may touch: its Deployment (foreground, so its pods go first), then its disk, then its slots. */
export async function destroyInstance(context: ExecutionContext, settings: { policy: Pick<AccessPolicy, 'serverName' | 'admins'>; lockMs: number }, caller: CallerIdentity, name: string): Promise<void> {
  const deployment = await findInstance(context.cluster, settings.policy, caller, name);
  if (deployment.metadata?.deletionTimestamp) return await teardownInstance(context, name); // a destroy already running: finish it
  // The lock goes with the Deployment (it owns the lock), so nothing releases it after.
  await withLock(context, { deployment, operation: 'destroy', durationMs: settings.lockMs, whileDeleting: true }, () => teardownInstance(context, name));
}
