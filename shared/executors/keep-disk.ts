import type { V1Lease } from '@kubernetes/client-node';
import { AlreadyExistsError } from '../errors.ts';
import { StaleFingerprintError, type DiskInfo } from '../gce/disks.ts';
import { RESTORE_RECORD_LABEL } from '../instances/metadata.ts';
import { keptDiskLabels, restoreRecordName, type KeepForRestore } from '../plans/restore-record.ts';
import type { ExecutionContext } from './context.ts';
import { deleteLease, isInstanceDisk } from './teardown.ts';

type Context = Pick<ExecutionContext, 'serverName' | 'cluster' | 'disks'>;

/**
 * Keeps an instance's disk for a restore instead of deleting it: writes the
 * restore record, then labels the disk with the time of the destroy. Answers
 * false when there is no disk of this allocator's to keep (then nothing is
 * written, and the destroy is final).
 */
export async function keepInstanceDisk(
  context: Context,
  name: string,
  keep: KeepForRestore,
  firstRead: Promise<DiskInfo | undefined>,
): Promise<boolean> {
  const disk = await firstRead;
  if (disk === undefined || !isInstanceDisk(disk, context.serverName)) return false;
  await writeRecord(context, keep.record);
  await labelDisk(context, disk, keep.destroyedAtMs);
  return true;
}

/** Creates the record; one left by an earlier life of the name (a restore that could not delete it) is replaced. */
async function writeRecord(context: Context, record: V1Lease): Promise<void> {
  try {
    await context.cluster.createLease(record);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const stale = await context.cluster.readLease(record.metadata?.name ?? '');
    if (stale) await deleteLease(context, stale);
    await context.cluster.createLease(record);
  }
}

/** Adds the destroy's time to the disk's labels; labels changed since the read are read again, once. */
async function labelDisk(context: Context, disk: DiskInfo, destroyedAtMs: number): Promise<void> {
  const label = async (read: DiskInfo): Promise<void> => {
    const change = await context.disks.setLabels({
      name: read.name,
      labels: keptDiskLabels(read.labels, destroyedAtMs),
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
}

/** Deletes the restore record of `name`, if there is one: its disk is being deleted. */
export async function dropRestoreRecord(context: Pick<Context, 'cluster'>, name: string): Promise<void> {
  const record = await context.cluster.readLease(restoreRecordName(name));
  if (record?.metadata?.labels?.[RESTORE_RECORD_LABEL] !== undefined) await deleteLease(context, record);
}
