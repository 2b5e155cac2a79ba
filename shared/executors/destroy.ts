import type { DestroyResult } from '../api-types.ts';
import { keepOnDestroy, restorableUntil } from '../plans/restore-record.ts';
import type { InstanceContext } from './context.ts';
import { instanceSlots, teardownInstance } from './teardown.ts';
import { runTransition } from './transition.ts';

/** Destroy's context: how long a destroyed instance's disk is kept for a restore (0: never). */
export type DestroyContext = InstanceContext & { readonly restoreWindowMs: number };

/**
 * Destroys one instance the caller may touch: its Deployment (foreground, so
 * its pods go first), then its disk, then its slots, then its record. Within a
 * restore window, unless asked for `now`, the disk is kept, with a record to
 * restore it from.
 */
export async function destroyInstance(
  context: DestroyContext,
  request: { readonly name: string; readonly now?: boolean },
): Promise<DestroyResult> {
  const { name } = request;
  // Only a read, so it goes along with entering the transition.
  const slots = instanceSlots(context, name);
  slots.catch(() => undefined); // awaited in the teardown
  return await runTransition(context, { name, kind: 'destroy' }, async ({ deployment }) => {
    const keep =
      request.now === true || deployment === undefined
        ? undefined
        : keepOnDestroy(deployment, {
            serverName: context.serverName,
            nowMs: context.clock.now(),
            restoreWindowMs: context.restoreWindowMs,
          });
    // Every write of the teardown is conditional on the uid read: a create of the same name since leaves the new instance alone.
    const uid = deployment?.metadata?.uid;
    const { diskKept } = await teardownInstance(context, name, { slots, ...(uid ? { uid } : {}), ...(keep ? { keep } : {}) });
    const result: DestroyResult = {
      name,
      destroyed: true,
      ...(diskKept && keep
        ? { restorableUntil: new Date(restorableUntil(keep.destroyedAtMs, context.restoreWindowMs)).toISOString() }
        : {}),
    };
    return { result, to: 'gone' };
  });
}
