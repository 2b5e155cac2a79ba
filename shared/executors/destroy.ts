import type { InstanceContext } from './context.ts';
import { findInstance } from './find-instance.ts';
import { withLock } from './lock.ts';
import { instanceSlots, teardownInstance } from './teardown.ts';

/** Destroys one instance the caller may touch: its Deployment (foreground, so its pods go first), then its disk, then its slots. */
export async function destroyInstance(
  context: InstanceContext,
  request: { readonly name: string },
): Promise<{ name: string; destroyed: true }> {
  const { name } = request;
  const deployment = await findInstance(context, name);
  // Only a read, so it goes along with taking the lock.
  const slots = instanceSlots(context, name);
  slots.catch(() => undefined); // awaited in the teardown
  // Every write of the teardown is conditional on the uid read: a destroy and a create of the same
  // name since this read leave the new instance alone, without a second read under the lock.
  const uid = deployment.metadata?.uid;
  if (deployment.metadata?.deletionTimestamp) {
    await teardownInstance(context, name, { slots, uid }); // a destroy already running: finish it
  } else {
    await withLock(context, { deployment, operation: 'destroy', uidPreconditions: uid !== undefined }, (lock) =>
      teardownInstance(context, name, { slots, uid, releaseLock: lock.release }),
    );
  }
  return { name, destroyed: true };
}
