import { createHash } from 'node:crypto';
import type { ServiceConfig } from '../config/service-config.ts';
import type { DiskInfo, DiskSpec } from '../gce/disks.ts';
import { DISK_LABELS } from '../instances/metadata.ts';

/**
 * The warm pool: disks made ahead, like every instance's, that a create
 * claims instead of making one and waiting about 2 s for it. A free pool disk
 * carries the pool's labels and no instance's, so neither a limit nor the
 * sweep's orphan rule sees it; a create claims it by replacing its labels with
 * an instance's, conditional on the fingerprint it read, and the instance
 * takes the disk's name.
 */
export type PoolDiskSettings = Pick<ServiceConfig, 'serverName' | 'disk'>;

export type PoolState = 'free' | 'retiring';

/** What a pool disk is made like (source, size, type), as a label value: disks of an older setting are replaced. */
export function poolSpecHash(disk: ServiceConfig['disk']): string {
  const source =
    disk.source === undefined ? null : 'snapshot' in disk.source ? `snapshot:${disk.source.snapshot}` : `image:${disk.source.image}`;
  return createHash('sha256')
    .update(JSON.stringify([source, disk.sizeGb, disk.type]))
    .digest('hex')
    .slice(0, 16);
}

export function poolDiskLabels(serverName: string, specHash: string, state: PoolState): Record<string, string> {
  return {
    [DISK_LABELS.allocator]: serverName,
    [DISK_LABELS.pool]: serverName,
    [DISK_LABELS.poolState]: state,
    [DISK_LABELS.poolSpec]: specHash,
  };
}

/** A new free pool disk named `name` (an instance name: the instance that claims it takes it). */
export function poolDiskSpec(settings: PoolDiskSettings, name: string): DiskSpec {
  const { disk } = settings;
  return {
    name,
    sizeGb: disk.sizeGb,
    type: disk.type,
    labels: poolDiskLabels(settings.serverName, poolSpecHash(disk), 'free'),
    ...(disk.source ? { source: { ...disk.source } } : {}),
  };
}

/** The Compute Engine filter of this allocator's unclaimed pool disks (free or retiring). */
export function poolFilter(serverName: string): string {
  return `labels.${DISK_LABELS.pool} = "${serverName}"`;
}

/** The labels a claimed pool disk gets: the instance's, and the spec it was made to, for a give-back. */
export function claimedLabels(instanceLabels: Readonly<Record<string, string>>, disk: DiskInfo): Record<string, string> {
  const spec = disk.labels[DISK_LABELS.poolSpec];
  return { ...instanceLabels, ...(spec === undefined ? {} : { [DISK_LABELS.poolSpec]: spec }) };
}

/** The labels a claimed disk given back gets: free again, made to the spec it was made to. */
export function givenBackLabels(serverName: string, disk: DiskInfo): Record<string, string> {
  return poolDiskLabels(serverName, disk.labels[DISK_LABELS.poolSpec] ?? '', 'free');
}

/** Whether a disk is a free pool disk of this allocator: made to the current spec, ready, attached nowhere. */
export function isFreePoolDisk(disk: DiskInfo, options: { serverName: string; specHash: string }): boolean {
  return (
    disk.labels[DISK_LABELS.pool] === options.serverName &&
    disk.labels[DISK_LABELS.poolState] === 'free' &&
    disk.labels[DISK_LABELS.poolSpec] === options.specHash &&
    disk.labels[DISK_LABELS.instance] === undefined &&
    disk.status === 'READY' &&
    disk.users.length === 0
  );
}

/** The free pool disks among `disks`, in the order a create tries them: shuffled by `random`, so that concurrent creates rarely try the same one first. */
export function freePoolDisks(
  disks: readonly DiskInfo[],
  options: { serverName: string; specHash: string; random: (bound: number) => number },
): DiskInfo[] {
  const free = disks.filter((disk) => isFreePoolDisk(disk, options));
  for (let i = free.length - 1; i > 0; i -= 1) {
    const j = options.random(i + 1);
    [free[i], free[j]] = [free[j] as DiskInfo, free[i] as DiskInfo];
  }
  return free;
}

/** What the sweep does to the pool. */
export interface PoolSweepPlan {
  /** How many disks to make. */
  readonly make: number;
  /** Disks to delete: beyond the size, of another spec, or left retiring by an earlier sweep. */
  readonly retire: readonly { readonly name: string; readonly why: 'beyond-size' | 'spec-changed' | 'retiring' }[];
  /** The pool's free disks of the current spec, ready or being made, before this sweep. */
  readonly free: number;
}

/**
 * Tops the pool up to `size`, and retires what should not be in it. Disks
 * being made count toward the size (a create's refill under way) but are never
 * retired while they are; of the ready ones the oldest are kept.
 */
export function planPoolSweep(
  poolDisks: readonly DiskInfo[],
  options: { serverName: string; size: number; specHash: string },
): PoolSweepPlan {
  const ours = poolDisks.filter((disk) => disk.labels[DISK_LABELS.pool] === options.serverName && disk.users.length === 0);
  const retire: { name: string; why: 'beyond-size' | 'spec-changed' | 'retiring' }[] = [];
  const current: DiskInfo[] = [];
  for (const disk of ours) {
    if (disk.labels[DISK_LABELS.poolState] === 'retiring') retire.push({ name: disk.name, why: 'retiring' });
    else if (disk.labels[DISK_LABELS.poolSpec] !== options.specHash) {
      if (disk.status === 'READY') retire.push({ name: disk.name, why: 'spec-changed' });
    } else if (disk.status === 'READY' || disk.status === 'CREATING') current.push(disk);
  }
  const byAge = [...current].sort(
    (a, b) => Number(b.status === 'READY') - Number(a.status === 'READY') || a.creationTimestamp.localeCompare(b.creationTimestamp),
  );
  for (const disk of byAge.slice(options.size)) if (disk.status === 'READY') retire.push({ name: disk.name, why: 'beyond-size' });
  return { make: Math.max(0, options.size - current.length), retire, free: current.length };
}
