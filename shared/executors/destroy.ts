import type { CallerIdentity } from '../auth/identity.ts';
import type { AccessPolicy } from '../auth/policy.ts';
import type { ExecutionContext } from './context.ts';
import { findInstance } from './find-instance.ts';
import { withLock } from './lock.ts';
import { instanceSlots, teardownInstance } from './teardown.ts';

/** Destroys one instance the caller may touch: its Deployment (foreground, so its pods go first), then its disk, then its slots. */
export async function destroyInstance(
  context: ExecutionContext,
  settings: { policy: Pick<AccessPolicy, 'serverName' | 'admins'>; lockMs: number },
  caller: CallerIdentity,
  name: string,
): Promise<void> {
  const deployment = await findInstance(context.cluster, settings.policy, caller, name);
  // Only a read, so it goes along with taking the lock.
  const slots = instanceSlots(context, name);
  slots.catch(() => undefined); // awaited in the teardown
  if (deployment.metadata?.deletionTimestamp) return await teardownInstance(context, name, { slots }); // a destroy already running: finish it
  await withLock(context, { deployment, operation: 'destroy', durationMs: settings.lockMs, whileDeleting: true }, (lock) =>
    teardownInstance(context, name, { slots, releaseLock: lock.release }),
  );
}
