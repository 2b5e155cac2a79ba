import type { V1Lease } from '@kubernetes/client-node';
import { checkBoundTokenFor, mayAccessInstance } from '../auth/policy.ts';
import { AlreadyExistsError, NotFoundError } from '../errors.ts';
import { instanceFromDeployment, type Instance } from '../instances/instance.ts';
import { LABELS, RESTORE_RECORD_LABEL } from '../instances/metadata.ts';
import {
  destroyedAtOf,
  isRestorable,
  recordOwner,
  restorableUntil,
  restoredDiskLabels,
  restoreRecordName,
} from '../plans/restore-record.ts';
import type { RestorePlan } from '../plans/restore.ts';
import { bindSlots, claimSlots, didNotHappen } from './claim-slots.ts';
import type { InstanceContext } from './context.ts';
import { deleteOwnDeployment } from './create.ts';
import { holdLock } from './lock.ts';
import { deleteLease, isInstanceDisk } from './teardown.ts';
import { UndoStack } from './undo.ts';
import { waitUntilReady } from './wait-ready.ts';

/** Restore's context: the restore window, read when the restore runs. */
export type RestoreContext = InstanceContext & { readonly restoreWindowMs: number };

/**
 * The restore record of an instance the caller may restore: its owner's or,
 * for an admin, anyone's. A record that is missing, someone else's or past
 * its window is the same 404; an instance that exists again (restored
 * already) is a 409 to whoever may see it.
 */
export async function findRestoreRecord(context: RestoreContext, name: string): Promise<V1Lease> {
  const { cluster, policy, caller } = context;
  const record = await cluster.readLease(restoreRecordName(name));
  const labels = record?.metadata?.labels ?? {};
  const mine =
    record !== undefined &&
    labels[RESTORE_RECORD_LABEL] !== undefined &&
    labels[LABELS.instance] === name &&
    mayAccessInstance(policy, caller, { metadata: record.metadata ?? {} });
  if (!mine) {
    checkBoundTokenFor(policy, caller, record, "restore other people's instances");
    const existing = await cluster.readDeployment(name);
    checkBoundTokenFor(policy, caller, existing, "restore other people's instances");
    if (existing && mayAccessInstance(policy, caller, existing))
      throw new AlreadyExistsError(`instance ${name} exists (restored already?); there is nothing to restore`);
    throw new NotFoundError(`no destroyed instance ${name} can be restored`);
  }
  if (!isRestorable(record, context.clock.now(), context.restoreWindowMs)) {
    const until = new Date(restorableUntil(destroyedAtOf(record), context.restoreWindowMs)).toISOString();
    throw new NotFoundError(`instance ${name} could be restored until ${until}; its disk is deleted`);
  }
  return record;
}

/**
 * Makes a destroyed instance again on its kept disk, holding the instance's
 * lock (owned by the record, so a second restore of the name gets a 409):
 * claims the slots, creates the Deployment, binds the slots, waits if asked,
 * and last deletes the record. Any failure undoes every step sent and leaves
 * the disk and the record, so the instance can still be restored.
 */
export async function executeRestore(
  context: RestoreContext,
  request: { readonly plan: RestorePlan; readonly record: V1Lease },
): Promise<Instance> {
  const { plan, record } = request;
  const { cluster, disks, serverName } = context;
  // Only a read, so it goes along with taking the lock.
  const diskRead = disks.getDisk(plan.name);
  diskRead.catch(() => undefined); // awaited under the lock
  return await holdLock(context, { instance: plan.name, owner: recordOwner(record), operation: 'restore' }, async (lock) => {
    // Under the lock: the record read before is still there, not deleted by a restore that finished meanwhile.
    const [disk, current] = await Promise.all([diskRead, cluster.readLease(restoreRecordName(plan.name))]);
    if (current?.metadata?.uid !== record.metadata?.uid)
      throw new AlreadyExistsError(`instance ${plan.name} was restored meanwhile; there is nothing to restore`);
    if (disk === undefined || !isInstanceDisk(disk, serverName)) {
      // Deleted by hand, or by a sweep that did not get to the record: the record restores nothing.
      await deleteLease(context, record);
      throw new NotFoundError(`instance ${plan.name} cannot be restored: its disk is gone`);
    }
    const undo = new UndoStack(context.report);
    try {
      const slots = await claimSlots(cluster, plan.slots, undo);
      const created = await undo
        .step(
          `the Deployment ${plan.name}`,
          () => deleteOwnDeployment(context, plan),
          () => cluster.createDeployment(plan.deployment),
          didNotHappen,
        )
        .catch((error: unknown) => {
          if (error instanceof AlreadyExistsError)
            throw new AlreadyExistsError(`an instance named ${plan.name} exists already`, { cause: error });
          throw error;
        });
      const binding = bindSlots(cluster, slots, created);
      binding.catch(() => undefined); // awaited below; a failure then undoes the restore
      const answer = plan.wait
        ? await waitUntilReady(context, { name: plan.name, timeoutMs: plan.waitMs, then: '; it was removed', seen: created })
        : instanceFromDeployment(created);
      await binding;
      // Done: the record goes (by its uid), and with it the lock it owns.
      await cluster.deleteLease(restoreRecordName(plan.name), { uid: record.metadata?.uid ?? '' });
      // The disk is the instance's again, while the lock goes. A label left behind would be harmless:
      // the sweep never deletes a disk whose Deployment exists, and the next destroy writes its own time.
      await Promise.all([
        disks
          .setLabels({ name: plan.name, labels: restoredDiskLabels(disk.labels), labelFingerprint: disk.labelFingerprint })
          .then((change) => change.done)
          .catch((error: unknown) =>
            context.report(`could not clear the destroy's time on disk ${plan.name}: ${(error as Error).message}`),
          ),
        lock.release(),
      ]);
      return answer;
    } catch (error) {
      await undo.unwind();
      throw error;
    }
  });
}
