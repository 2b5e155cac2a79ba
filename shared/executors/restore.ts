import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '../errors.ts';
import type { Instance } from '../instances/instance.ts';
import type { InstanceRecord } from '../model/record.ts';
import {
  destroyedAtOf,
  isRestorable,
  legacyRestoreLeaseName,
  recordFromLegacyRestoreLease,
  restorableUntil,
  restoredDiskLabels,
} from '../plans/restore-record.ts';
import type { RestorePlan } from '../plans/restore.ts';
import { claimSlots } from './claim-slots.ts';
import type { InstanceContext } from './context.ts';
import { startInstance, undoUnlessStanding, type DeploymentSent } from './create.ts';
import { adoptDestroyed } from './sweep-records.ts';
import { deleteLease, deleteLeases, instanceSlots, isInstanceDisk } from './teardown.ts';
import { runTransition } from './transition.ts';
import { UndoStack } from './undo.ts';

/** Restore's context: the restore window, read when the restore runs. */
export type RestoreContext = InstanceContext & { readonly restoreWindowMs: number };

/**
 * Makes a destroyed instance again on its kept disk, as a transition of its
 * record from destroyed through restoring to running: checks the window
 * again once it holds the record, clears slots its destroy left, claims the
 * slots, creates the Deployment that `plan` renders from the record, waits if asked, and
 * clears the destroy's time from the disk. Any failure undoes every step sent
 * and leaves the record destroyed, so the instance can still be restored.
 */
export async function restoreInstance(
  context: RestoreContext,
  request: { readonly name: string; readonly plan: (record: InstanceRecord) => RestorePlan },
): Promise<Instance> {
  const { name } = request;
  const { cluster, disks, serverName } = context;
  await carryOverLegacyRecord(context, name);
  let entered = false;
  try {
    return await runTransition(context, { name, kind: 'restore' }, async ({ record }) => {
      entered = true;
      const nowMs = context.clock.now();
      if (!isRestorable(record, nowMs, context.restoreWindowMs)) {
        const until = new Date(restorableUntil(destroyedAtOf(record), context.restoreWindowMs)).toISOString();
        throw new NotFoundError(`instance ${name} could be restored until ${until}; its disk is deleted`);
      }
      // Slots still held under its name are its destroy's, whose delete failed: no other instance has this name while
      // the record does. They go before the restore claims its own, or the owner would hold two for one instance.
      const [disk, leftovers] = await Promise.all([disks.getDisk(record.spec.disk.name), instanceSlots(context, name)]);
      if (leftovers.length > 0) {
        context.report(`clearing ${leftovers.length} slot(s) left by the destroy of ${name}`);
        await deleteLeases(context, leftovers);
      }
      if (disk === undefined || !isInstanceDisk(disk, serverName)) {
        // Deleted by hand, or by a sweep that did not get to the record: the record restores nothing.
        await cluster.deleteRecord(name, record.metadata.uid ? { uid: record.metadata.uid } : undefined).catch(() => false);
        throw new NotFoundError(`instance ${name} cannot be restored: its disk is gone`);
      }
      const plan = request.plan(record);
      const undo = new UndoStack(context.report);
      try {
        // The slots are given back only once the Deployment is gone: one whose undo failed keeps them, or it would run
        // outside the limits (no sweep takes a restored instance's Deployment, on its kept disk, for an orphan).
        const slotsUndo = new UndoStack(context.report);
        const sent: DeploymentSent = { mayHaveMade: false };
        undo.push(`the slots of ${name}`, () => undoUnlessStanding(context, { plan, needs: slotsUndo, sent, kept: 'slots' }));
        await claimSlots(cluster, plan.slots, slotsUndo);
        context.progress?.('slots');
        context.progress?.('disk', { pooled: false });
        // The teardown deleted the Services and ConfigMaps: they are made again, owned by the record kept.
        const answer = await startInstance(context, {
          plan,
          undo,
          sent,
          record,
          taken: (error) => new AlreadyExistsError(`an instance named ${name} exists already`, { cause: error }),
        });
        // The disk is the instance's again. A label left behind would be harmless: the sweep never deletes
        // a disk whose Deployment exists, and the next destroy writes its own time.
        await disks
          .setLabels({ name: disk.name, labels: restoredDiskLabels(disk.labels), labelFingerprint: disk.labelFingerprint })
          .then((change) => change.done)
          .catch((error: unknown) => context.report(`could not clear the destroy's time on disk ${name}: ${(error as Error).message}`));
        return {
          result: answer,
          // A new life: its own creation time and expiry; the key of the create that made the first one is not carried over.
          spec: ({ expiresAt: _expired, keyHash: _key, ...spec }) => ({ ...spec, createdAt: plan.createdAt, ...expiryOf(plan) }),
          status: { destroyedAt: undefined },
        };
      } catch (error) {
        await undo.unwind();
        throw error;
      }
    });
  } catch (error) {
    if (entered) throw error;
    // Restore's own words for what the table refuses: nothing destroyed by that name, or an instance that is back.
    if (error instanceof NotFoundError) throw new NotFoundError(`no destroyed instance ${name} can be restored`, { cause: error });
    if (error instanceof FailedPreconditionError)
      throw new AlreadyExistsError(`instance ${name} exists (restored already?); there is nothing to restore`, { cause: error });
    throw error;
  }
}

function expiryOf(plan: RestorePlan): { expiresAt?: string } {
  const expiresAt = plan.instance.expiresAt;
  return expiresAt ? { expiresAt } : {};
}

/** An instance destroyed by a release before records left a restore Lease: its record is written from it, once. */
async function carryOverLegacyRecord(context: RestoreContext, name: string): Promise<void> {
  const lease = await context.cluster.readLease(legacyRestoreLeaseName(name));
  if (lease === undefined) return;
  const record = recordFromLegacyRestoreLease(lease, context.serverName);
  if (record && record.metadata.name === name) await adoptDestroyed(context, record);
  await deleteLease(context, lease);
}
