import type { DestroyResult } from '../api-types.ts';
import { restorableUntil, restoreRecord } from '../plans/restore-record.ts';
import type { InstanceContext } from './context.ts';
import { findInstance } from './find-instance.ts';
import type { KeepForRestore } from './keep-disk.ts';
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
  // Whole seconds, as the disk's label holds it: the record, the answer and the sweep then agree on the window's end.
  const nowMs = Math.floor(context.clock.now() / 1000) * 1000;
  const keep: KeepForRestore | undefined =
    context.restoreWindowMs > 0 && request.now !== true
      ? { record: restoreRecord(deployment, { serverName: context.serverName, nowMs }), destroyedAtMs: nowMs }
      : undefined;
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
    ...(diskKept ? { restorableUntil: new Date(restorableUntil(nowMs, context.restoreWindowMs)).toISOString() } : {}),
  };
}
