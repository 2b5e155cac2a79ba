import type { DestroyResult } from '../api-types.ts';
import { instanceSelector } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { allItems } from '../kube/cluster.ts';
import type { InstanceRecord } from '../model/record.ts';
import { destroyedAtOf, isRestorable, keptAt, keptToDrop, restorableUntil } from '../plans/restore-record.ts';
import type { ExecutionContext, InstanceContext } from './context.ts';
import { deleteInstanceDisk, deleteRecordAsRead, instanceSlots, teardownInstance } from './teardown.ts';
import { ALLOCATOR_ITSELF, runTransition, type TransitionContext } from './transition.ts';

/**
 * Destroy's context: how long a destroyed instance's disk is kept for a
 * restore (0: never), and how many an owner may have kept at once.
 */
export type DestroyContext = InstanceContext & KeepContext;

/** What keeping a disk for a restore reads: the window, and how many kept disks an owner may have. */
export interface KeepContext {
  readonly restoreWindowMs: number;
  readonly keptPerUser: number;
}

/**
 * Destroys one instance the caller may touch: its Deployment (foreground, so
 * its pods go first), then its disk, then its slots. Within a restore window,
 * unless asked for `now`, the disk is kept and the record stays, in phase
 * destroyed, to restore it from; past the owner's count of kept disks, their
 * oldest kept one goes. A destroy of an instance destroyed already answers
 * as the first did, or with `now` deletes its kept disk for good.
 */
export async function destroyInstance(
  context: DestroyContext,
  request: { readonly name: string; readonly now?: boolean },
): Promise<DestroyResult> {
  const { name } = request;
  // Only a read, so it goes along with entering the transition.
  const slots = instanceSlots(context, name);
  slots.catch(() => undefined); // awaited in the teardown
  return await tearDown(context, { name, ...(request.now ? { now: true } : {}), slots });
}

/**
 * Destroy's steps inside its transition, for a caller (standing from the
 * record) or the sweep (the allocator itself). A destroy that keeps the disk
 * makes room for it once its record is in phase destroyed, so destroys of
 * one owner at once each see the others' and keep no more than the count.
 */
export async function tearDown(
  context: TransitionContext & KeepContext,
  request: { readonly name: string; readonly now?: boolean; readonly slots?: ReturnType<typeof instanceSlots>; readonly bySweep?: boolean },
): Promise<DestroyResult> {
  const { name } = request;
  let owner = '';
  const result = await runTransition<DestroyResult>(
    context,
    {
      name,
      kind: 'destroy',
      ...(request.bySweep ? { standing: ALLOCATOR_ITSELF } : {}),
      // Destroyed already, its disk kept: the same answer again, with nothing held or written (with `now` the disk goes for good).
      asIs: ({ record, from }) => {
        if (from !== 'destroyed' || request.now === true || !isRestorable(record, context.clock.now(), context.restoreWindowMs)) return;
        const until = restorableUntil(destroyedAtOf(record), context.restoreWindowMs);
        return { result: { name, destroyed: true, restorableUntil: new Date(until).toISOString() } };
      },
    },
    async ({ record, deployment, from }) => {
      // A destroy retried after its Deployment went still keeps the disk: the record holds all a restore needs. One kept already is never kept anew.
      const keptAtMs = request.now === true || from === 'destroyed' ? undefined : keptAt(context.clock.now(), context.restoreWindowMs);
      // Every write of the teardown is conditional on the uid read: a create of the same name since leaves the new instance alone.
      const uid = deployment?.metadata?.uid;
      const { diskKept } = await teardownInstance(context, name, {
        ...(request.slots ? { slots: request.slots } : {}),
        ...(uid ? { uid } : {}),
        ...(keptAtMs !== undefined ? { keptAtMs } : {}),
      });
      if (!diskKept || keptAtMs === undefined) return { result: { name, destroyed: true }, to: 'gone' };
      owner = record.spec.owner.email;
      return {
        result: { name, destroyed: true, restorableUntil: new Date(restorableUntil(keptAtMs, context.restoreWindowMs)).toISOString() },
        to: 'destroyed',
        status: { destroyedAt: new Date(keptAtMs).toISOString() },
      };
    },
  );
  if (result.restorableUntil !== undefined && owner !== '') await dropOverCount(context, owner);
  return result;
}

/** Drops an owner's oldest kept instances beyond their count, as the records say now; each only as it was read. */
export async function dropOverCount(context: ExecutionContext & KeepContext, owner: string): Promise<void> {
  const selector = instanceSelector(context.serverName, ownerHashOf(owner));
  const owned = await allItems((continueToken) =>
    context.cluster.listRecords({ labelSelector: selector, limit: 500, ...(continueToken ? { continueToken } : {}) }),
  );
  for (const old of keptToDrop(owned.filter(isKept), context.keptPerUser)) {
    context.report(`dropping ${old.metadata.name}, kept for a restore: its owner keeps at most ${context.keptPerUser}`);
    await dropKept(context, old);
  }
}

/** A record of an instance destroyed with its disk kept, that no operation (a restore) holds. */
export const isKept = (record: InstanceRecord): boolean => record.status.phase === 'destroyed' && record.status.operation === undefined;

/**
 * Drops a kept instance for good: its record first, only as it was read (a
 * restore that has taken it since changed it, and keeps it, disk and all),
 * then its disk. A record so never promises a disk that is going; a disk
 * whose delete fails is then no record's, and the sweep takes it for an
 * orphan.
 */
export async function dropKept(context: ExecutionContext, record: InstanceRecord): Promise<void> {
  if (!(await deleteRecordAsRead(context, record))) {
    context.report(`kept ${record.metadata.name}: its record changed since it was read (a restore?)`);
    return;
  }
  await deleteInstanceDisk(context, record.spec.disk.name);
}
