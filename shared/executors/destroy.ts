import type { DestroyResult } from '../api-types.ts';
import { keepOnDestroy, restorableUntil } from '../plans/restore-record.ts';
import type { InstanceContext } from './context.ts';
import { findInstance } from './find-instance.ts';
import { withLock } from './lock.ts';
import { instanceSlots, teardownInstance } from './teardown.ts';

/** Destroy's context: how long a destroyed instance's disk is kept for a restore (0: never). */
export type DestroyContext = InstanceContext & { readonly restoreWindowMs: number };

/**
 * Destroys one instance the caller may touch: its Deployment (foreground, so
 * its pods go first), then its disk, then its slots. Within a restore window,
 * unless asked for `now`, the disk is kept, with a record to restore it from.
 */
export async function destroyInstance(
  context: DestroyContext,
  request: { readonly name: string; readonly now?: boolean },
): Promise<DestroyResult> {
  const { name } = request;
  const deployment = await findInstance(context, name);
  // Only a read, so it goes along with taking the lock.
  const slots = instanceSlots(context, name);
  slots.catch(() => undefined); // awaited in the teardown
  const keep =
    request.now === true
      ? undefined
      : keepOnDestroy(deployment, { serverName: context.serverName, nowMs: context.clock.now(), restoreWindowMs: context.restoreWindowMs });
  // Every write of the teardown is conditional on the uid read: a destroy and a create of the same
  // name since this read leave the new instance alone, without a second read under the lock.
  const uid = deployment.metadata?.uid;
  const start = { slots, uid, ...(keep ? { keep } : {}) };
  const { diskKept } = deployment.metadata?.deletionTimestamp
    ? await teardownInstance(context, name, start) // a destroy already running: finish it
    : await withLock(context, { deployment, operation: 'destroy', uidPreconditions: uid !== undefined }, (lock) =>
        teardownInstance(context, name, { ...start, releaseLock: lock.release }),
      );
  return {
    name,
    destroyed: true,
    ...(diskKept && keep ? { restorableUntil: new Date(restorableUntil(keep.destroyedAtMs, context.restoreWindowMs)).toISOString() } : {}),
  };
}
