import type { ServiceConfig } from '../config/service-config.ts';
import { allDisks, StaleFingerprintError, type DiskInfo, type LabelsChange } from '../gce/disks.ts';
import { DISK_LABELS } from '../instances/metadata.ts';
import { newInstanceName } from '../instances/naming.ts';
import { freePoolDisks, givenBackLabels, poolDiskLabels, poolDiskSpec, poolFilter, poolSpecHash } from '../plans/disk-pool.ts';
import type { Background } from '../runtime/background.ts';
import type { ExecutionContext } from './context.ts';
import { deleteInstanceDisk, deleteLeases, instanceSlots, isInstanceDisk } from './teardown.ts';

/** What the pool is worked with: the disk settings it makes disks to, its size, and where a refill runs. */
export interface PoolContext extends ExecutionContext {
  readonly disk: ServiceConfig['disk'];
  readonly diskPool: ServiceConfig['diskPool'];
  readonly background: Background;
}

/** Every pool disk of this allocator not yet claimed (free or retiring, in any state). */
export async function listPoolDisks(context: Pick<PoolContext, 'disks' | 'serverName'>): Promise<DiskInfo[]> {
  return await allDisks(context.disks, { filter: poolFilter(context.serverName), maxResults: 500 });
}

/** The free pool disks a create may claim, in the order to try them. */
export async function freeDisksToTry(context: PoolContext): Promise<DiskInfo[]> {
  if (context.diskPool.size === 0) return [];
  return freePoolDisks(await listPoolDisks(context), {
    serverName: context.serverName,
    specHash: poolSpecHash(context.disk),
    random: (bound) => context.random(4).readUInt32BE(0) % bound,
  });
}

/** Makes one free pool disk and waits for it; its name. */
export async function makePoolDisk(context: Pick<PoolContext, 'disks' | 'serverName' | 'disk' | 'random'>): Promise<string> {
  const name = newInstanceName(context.serverName, () => context.random(4));
  await context.disks.createDisk(poolDiskSpec(context, name));
  return name;
}

/** Starts making `count` pool disks, without waiting: a failure is reported, and the sweep tops the pool up anyway. */
export function refillInBackground(context: PoolContext, count: number): void {
  for (let i = 0; i < count; i += 1)
    context.background.run(() =>
      makePoolDisk(context).catch((error: unknown) => {
        context.report(`could not refill the disk pool: ${(error as Error).message}`);
      }),
    );
}

/**
 * Gives a claimed pool disk back, free, after a failed create: relabelled with
 * the fingerprint read now, once any slot still held under its name is gone.
 * As create's own disk would be, it is deleted instead if the Deployment
 * could not be removed, if it is still attached (a pod may have used it), or
 * if those slots' delete or the relabelling fails: its name is then never
 * given again. A disk that is no longer this instance's is left alone.
 */
export async function giveBackPoolDisk(context: PoolContext, name: string, claim?: LabelsChange): Promise<void> {
  await claim?.done.catch(() => undefined); // the labels to replace are the claim's, once it has finished
  const [disk, deployment, leftovers] = await Promise.all([
    context.disks.getDisk(name),
    context.cluster.readDeployment(name),
    instanceSlots(context, name),
  ]);
  if (disk === undefined || !isInstanceDisk(disk, context.serverName)) return;
  if (disk.users.length === 0 && deployment === undefined) {
    try {
      // Slots the failed create could not give back hold the disk's name: the next create of this disk would hold two.
      await deleteLeases(context, leftovers);
      const change = await context.disks.setLabels({
        name,
        labels: givenBackLabels(context.serverName, disk),
        labelFingerprint: disk.labelFingerprint,
      });
      await change.done;
      context.report(`gave the disk ${name} back to the pool`);
      return;
    } catch (error) {
      context.report(`could not give the disk ${name} back to the pool (${(error as Error).message}); deleting it`);
    }
  }
  await deleteInstanceDisk(context, name);
}

/**
 * Deletes a pool disk for the sweep, if it is still unclaimed: it is first
 * labelled retiring with the fingerprint the sweep read, so a create that
 * claims it meanwhile wins and the sweep leaves it. Whether it was deleted.
 */
export async function retirePoolDisk(context: Pick<PoolContext, 'disks' | 'serverName'>, disk: DiskInfo): Promise<boolean> {
  try {
    const change = await context.disks.setLabels({
      name: disk.name,
      labels: poolDiskLabels(context.serverName, disk.labels[DISK_LABELS.poolSpec] ?? '', 'retiring'),
      labelFingerprint: disk.labelFingerprint,
    });
    await change.done;
  } catch (error) {
    if (error instanceof StaleFingerprintError) return false;
    throw error;
  }
  return await context.disks.deleteDisk(disk.name);
}
