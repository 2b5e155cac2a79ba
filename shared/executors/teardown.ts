import type { V1Lease } from '@kubernetes/client-node';
import { ConflictError, DeadlineExceededError, NotFoundError, UnavailableError } from '../errors.ts';
import { DiskInUseError, StaleFingerprintError, type DiskInfo } from '../gce/disks.ts';
import { DISK_LABELS } from '../instances/metadata.ts';
import { instanceSlotSelector } from '../plans/slots.ts';
import { objectsSelector } from '../plans/instance-objects.ts';
import { OBJECT_KINDS } from '../template/validate-objects.ts';
import type { InstanceRecord } from '../model/record.ts';
import type { ExecutionContext } from './context.ts';
import { keptDiskLabels } from '../plans/restore-record.ts';
import { waitUntilDeploymentGone } from './wait.ts';

type Context = Pick<ExecutionContext, 'serverName' | 'cluster' | 'objects' | 'disks' | 'clock' | 'timeouts'>;

/** Whether a disk carries this allocator's labels for the instance of its name. */
export function isInstanceDisk(disk: DiskInfo, serverName: string): boolean {
  return disk.labels[DISK_LABELS.allocator] === serverName && disk.labels[DISK_LABELS.instance] === disk.name;
}

/**
 * Deletes the disk named like the instance, retrying while it is still
 * attached (the pod's node lets go of it some time after the pod is gone) or
 * Compute Engine is briefly unavailable, within the disk-release timeout. A
 * disk that does not carry this allocator's labels for this instance is left alone.
 */
export async function deleteInstanceDisk(
  context: Context,
  name: string,
  firstRead?: Promise<DiskInfo | undefined>,
): Promise<'deleted' | 'absent' | 'not-ours'> {
  const { disks, clock } = context;
  const timeoutMs = context.timeouts.diskReleaseMs;
  const deadline = clock.now() + timeoutMs;
  let delay = 500;
  let read = firstRead;
  for (;;) {
    try {
      const disk = await (read ?? disks.getDisk(name));
      read = undefined;
      if (disk === undefined) return 'absent';
      if (!isInstanceDisk(disk, context.serverName)) return 'not-ours';
      return (await disks.deleteDisk(name)) ? 'deleted' : 'absent';
    } catch (error) {
      if (!(error instanceof DiskInUseError || error instanceof UnavailableError)) throw error;
      if (clock.now() + delay > deadline) {
        const why = error instanceof DiskInUseError ? 'was still attached' : 'could not be deleted (Compute Engine unavailable)';
        throw new DeadlineExceededError(`disk ${name} ${why} after ${Math.round(timeoutMs / 1000)} s; try destroying again later`, {
          cause: error,
        });
      }
      await clock.sleep(delay);
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/** Deletes a Lease (a slot or a lock) only if it is still the object that was read, not one made since under the same name. */
export async function deleteLease(context: Pick<Context, 'cluster'>, lease: V1Lease): Promise<boolean> {
  const name = lease.metadata?.name ?? '';
  const uid = lease.metadata?.uid;
  try {
    return await context.cluster.deleteLease(name, uid ? { uid } : undefined);
  } catch (error) {
    if (error instanceof ConflictError) return false; // replaced: somebody else's slot now
    throw error;
  }
}

/** Deletes each of `leases` as it was listed (by uid): one replaced since is somebody else's and stays. */
export async function deleteLeases(context: Pick<Context, 'cluster'>, leases: readonly V1Lease[]): Promise<void> {
  await Promise.all(leases.map((lease) => deleteLease(context, lease)));
}

/**
 * Deletes a record only as it was read (its uid and resourceVersion): false
 * when it changed since (a restore took it), and it stays. One gone already
 * counts as deleted.
 */
export async function deleteRecordAsRead(context: Pick<Context, 'cluster'>, record: InstanceRecord): Promise<boolean> {
  const { uid, resourceVersion } = record.metadata;
  try {
    await context.cluster.deleteRecord(record.metadata.name, uid ? { uid, ...(resourceVersion ? { resourceVersion } : {}) } : undefined);
    return true;
  } catch (error) {
    if (error instanceof ConflictError) return false;
    throw error;
  }
}

/** The slots held for `instance`, by any try of its create. */
export async function instanceSlots(context: Pick<Context, 'cluster' | 'serverName'>, instance: string): Promise<readonly V1Lease[]> {
  return (await context.cluster.listLeases({ labelSelector: instanceSlotSelector(context.serverName, instance) })).items;
}

/**
 * Lets a slot go of the Deployment that owns it: a release before this one
 * made each Deployment the owner of its slots, which as its dependents would
 * make the foreground deletion wait for the garbage collector to remove them
 * too, and free the limit before the disk is gone. A slot no Deployment owns
 * (every slot since) needs nothing, nor one deleted meanwhile. With `owner`,
 * only a slot that Deployment owns, and only the object listed: one made
 * since under the same name is another instance's.
 */
async function detachSlot(context: Pick<Context, 'cluster'>, lease: V1Lease, owner: string | undefined): Promise<void> {
  const uid = lease.metadata?.uid;
  const owned = (lease.metadata?.ownerReferences ?? []).some(
    (reference) => reference.kind === 'Deployment' && (owner === undefined || reference.uid === owner),
  );
  if (!owned) return;
  try {
    await context.cluster.patchLease(
      lease.metadata?.name ?? '',
      { metadata: { ownerReferences: null } },
      owner !== undefined && uid ? { uid } : undefined,
    );
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof ConflictError)) throw error;
  }
}

/** What a caller of `teardownInstance` may already have under way. */
export interface TeardownStart {
  /** The instance's slots, listed while the lock was taken: they cannot change while the Deployment exists. */
  readonly slots?: Promise<readonly V1Lease[]>;
  /**
   * The uid of the Deployment the caller read. With it, the teardown touches
   * only that instance, without reading it again: the slots' detach and the
   * Deployment's delete are conditional on uids, and a delete refused (the
   * name is a new instance's) or finding nothing (another destroy removed it)
   * stops it, as a 404, before the disk and the slots.
   */
  readonly uid?: string;
  /** Within the restore window: keep the disk, labelled with this time of the destroy, instead of deleting it. */
  readonly keptAtMs?: number;
}

/**
 * Removes everything of one instance: Deployment (and so its pods), then its
 * disk (or, with `start.keep`, keeps it for a restore) and its Services and
 * ConfigMaps, then its slots. The slots stay held, so the limit stays exact, until they are deleted last;
 * those deleted are the ones listed at the start, by uid, never slots a new
 * create of the same name has taken since the Deployment went. With
 * `start.uid`, a delete of the Deployment that succeeds proves the instance
 * read was there all along, so the slots listed before it are its own.
 */
export async function teardownInstance(context: Context, name: string, start: TeardownStart = {}): Promise<{ readonly diskKept: boolean }> {
  const { uid } = start;
  const slots = await (start.slots ?? instanceSlots(context, name));
  await Promise.all(slots.map((lease) => detachSlot(context, lease, uid)));
  // The disk's labels are checked while the Deployment goes: one Compute round trip off the destroy.
  const diskRead = context.disks.getDisk(name);
  diskRead.catch(() => undefined); // read again below if this failed
  const left = await context.cluster.deleteDeployment(name, uid === undefined ? undefined : { uid }).catch((error: unknown) => {
    if (error instanceof ConflictError || error instanceof NotFoundError)
      throw new NotFoundError(`instance ${name} not found`, { cause: error });
    throw error;
  });
  if (left) await waitUntilDeploymentGone(context, { name, timeoutMs: context.timeouts.deleteMs, seen: left });
  const read = diskRead.catch(() => context.disks.getDisk(name));
  // The record owns the Services and ConfigMaps, but a record kept for a restore would keep them: they go now, beside the disk.
  const [diskKept] = await Promise.all([
    start.keptAtMs !== undefined
      ? keepInstanceDisk(context, start.keptAtMs, read)
      : deleteInstanceDisk(context, name, read).then(() => false),
    deleteInstanceObjects(context, name),
  ]);
  await deleteLeases(context, slots);
  return { diskKept };
}

/** Deletes the instance's Services and ConfigMaps, found by its label (one gone already is no failure). */
export async function deleteInstanceObjects(context: Pick<Context, 'serverName' | 'objects'>, name: string): Promise<void> {
  const selector = objectsSelector(context.serverName, [name]);
  await Promise.all(
    OBJECT_KINDS.map(async (kind) => {
      const found = await context.objects.list(kind, { labelSelector: selector });
      await Promise.all(found.map((object) => context.objects.delete(kind, object.metadata?.name ?? '')));
    }),
  );
}

/**
 * Keeps an instance's disk for a restore instead of deleting it: labels it
 * with the time of the destroy (labels changed since the read are read again,
 * once). False when there is no disk of this allocator's to keep.
 */
async function keepInstanceDisk(context: Context, keptAtMs: number, firstRead: Promise<DiskInfo | undefined>): Promise<boolean> {
  const disk = await firstRead;
  if (disk === undefined || !isInstanceDisk(disk, context.serverName)) return false;
  const label = async (read: DiskInfo): Promise<void> => {
    const change = await context.disks.setLabels({
      name: read.name,
      labels: keptDiskLabels(read.labels, keptAtMs),
      labelFingerprint: read.labelFingerprint,
    });
    await change.done;
  };
  try {
    await label(disk);
  } catch (error) {
    if (!(error instanceof StaleFingerprintError)) throw error;
    const fresh = await context.disks.getDisk(disk.name);
    if (fresh === undefined) throw error;
    await label(fresh);
  }
  return true;
}
