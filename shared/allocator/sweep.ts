import type { V1Deployment } from '@kubernetes/client-node';
import type { DisksApi } from '../gce/disks.ts';
import { ANNOTATIONS, DISK_LABELS, LABELS } from '../instances/metadata.ts';
import type { ClusterClient } from '../kube/cluster.ts';
import { defaultSleep, type TeardownDeps } from './deps.ts';
import { isExpired } from './lifetime.ts';
import { SLOT_LABEL } from './slots.ts';
import { deleteInstanceDisk, teardownInstance } from './teardown.ts';

/** What one sweep did (or, in a dry run, would do). */
export interface SweepReport {
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Expired instances destroyed. */
  readonly expired: readonly { name: string; owner: string; expiresAt: string }[];
  /** Disks of this allocator whose Deployment is missing. */
  readonly orphanDisks: readonly { name: string; createdAt: string }[];
  /** Deployments of this allocator whose disk is missing. */
  readonly orphanDeployments: readonly { name: string; createdAt: string }[];
  /** Limit slots held for instances that do not exist. */
  readonly orphanSlots: readonly { name: string; instance: string }[];
  readonly failed: readonly { kind: string; name: string; error: string }[];
  /** Destroys left for the next sweep by the per-run bound. */
  readonly deferred: number;
  readonly scanned: { readonly deployments: number; readonly disks: number; readonly slots: number };
}

const PAGE = 500;
const PARALLEL = 4;

interface Seen {
  createdAt: number;
  expiresAt?: string;
  owner: string;
}

/**
 * Destroys expired instances and reconciles what failed creates and hand
 * edits leave behind, touching only what carries this allocator's labels and
 * nothing younger than the grace period (a create in flight). Lists in pages;
 * re-reads each candidate just before acting on it, so that it is idempotent
 * and safe beside other sweeps, creates, destroys and extensions.
 */
export async function sweep(deps: TeardownDeps, options: { dryRun: boolean; now?: number }): Promise<SweepReport> {
  const { config } = deps;
  const serverName = config.serverName;
  const now = options.now ?? Date.now();
  const startedAt = new Date().toISOString();
  const graceCutoff = now - config.sweep.graceMs;
  const cluster = await deps.cluster();
  const disks = deps.disks();
  const sleep = deps.sleep ?? defaultSleep;

  const deployments = await scanDeployments(cluster, serverName);
  const diskCreated = await scanDisks(disks, serverName);
  const slots = await scanSlots(cluster, serverName);

  const expired = [...deployments].filter(([, seen]) => isExpired(seen.expiresAt, now));
  const orphanDeployments = [...deployments].filter(([name, seen]) => !diskCreated.has(name) && seen.createdAt < graceCutoff && !isExpired(seen.expiresAt, now));
  const orphanDisks = [...diskCreated].filter(([name, createdAt]) => !deployments.has(name) && createdAt < graceCutoff);
  const orphanSlots = [...slots].filter(([, slot]) => !deployments.has(slot.instance) && slot.createdAt < graceCutoff);

  const failed: { kind: string; name: string; error: string }[] = [];
  const done = { expired: [] as SweepReport['expired'][number][], orphanDeployments: [] as SweepReport['orphanDeployments'][number][], orphanDisks: [] as SweepReport['orphanDisks'][number][], orphanSlots: [] as SweepReport['orphanSlots'][number][] };
  const teardown = (name: string): Promise<void> =>
    teardownInstance({ cluster, disks, serverName, sleep }, name, { deploymentMs: config.waitTimeoutMs, diskReleaseMs: config.diskReleaseTimeoutMs });

  // Destroys are bounded per run; the cheap slot deletions are not.
  let budget = config.sweep.maxDestroys;
  const take = <T>(items: T[]): T[] => {
    const taken = items.slice(0, Math.max(0, budget));
    budget -= taken.length;
    return taken;
  };
  const expiredNow = take(expired);
  const orphanDeploymentsNow = take(orphanDeployments);
  const orphanDisksNow = take(orphanDisks);
  const deferred = expired.length + orphanDeployments.length + orphanDisks.length - expiredNow.length - orphanDeploymentsNow.length - orphanDisksNow.length;

  await inParallel(expiredNow, async ([name, seen]) => {
    const entry = { name, owner: seen.owner, expiresAt: seen.expiresAt ?? '' };
    if (options.dryRun) return void done.expired.push(entry);
    await attempt(failed, 'expired', name, async () => {
      const current = await cluster.readDeployment(name);
      // Re-read: it may have been extended or destroyed since the scan.
      if (!current || !isOurs(current, serverName) || !isExpired(current.metadata?.annotations?.[ANNOTATIONS.expiresAt], Date.now())) return;
      await teardown(name);
      done.expired.push(entry);
    });
  });
  await inParallel(orphanDeploymentsNow, async ([name, seen]) => {
    const entry = { name, createdAt: new Date(seen.createdAt).toISOString() };
    if (options.dryRun) return void done.orphanDeployments.push(entry);
    await attempt(failed, 'orphan-deployment', name, async () => {
      if ((await disks.getDisk(name)) !== undefined) return;
      const current = await cluster.readDeployment(name);
      if (!current || !isOurs(current, serverName)) return;
      await teardown(name);
      done.orphanDeployments.push(entry);
    });
  });
  await inParallel(orphanDisksNow, async ([name, createdAt]) => {
    const entry = { name, createdAt: new Date(createdAt).toISOString() };
    if (options.dryRun) return void done.orphanDisks.push(entry);
    await attempt(failed, 'orphan-disk', name, async () => {
      if ((await cluster.readDeployment(name)) !== undefined) return;
      const result = await deleteInstanceDisk(disks, { serverName, name, timeoutMs: config.diskReleaseTimeoutMs, sleep });
      if (result === 'deleted') done.orphanDisks.push(entry);
    });
  });
  await inParallel(orphanSlots, async ([name, slot]) => {
    const entry = { name, instance: slot.instance };
    if (options.dryRun) return void done.orphanSlots.push(entry);
    await attempt(failed, 'orphan-slot', name, async () => {
      if ((await cluster.readDeployment(slot.instance)) !== undefined) return;
      if (await cluster.deleteLease(name)) done.orphanSlots.push(entry);
    });
  });

  return {
    dryRun: options.dryRun,
    startedAt,
    finishedAt: new Date().toISOString(),
    ...done,
    failed,
    deferred,
    scanned: { deployments: deployments.size, disks: diskCreated.size, slots: slots.size },
  };
}

function isOurs(deployment: V1Deployment, serverName: string): boolean {
  return deployment.metadata?.labels?.[LABELS.allocator] === serverName;
}

async function scanDeployments(cluster: ClusterClient, serverName: string): Promise<Map<string, Seen>> {
  const seen = new Map<string, Seen>();
  let continueToken: string | undefined;
  do {
    const page = await cluster.listDeployments({ labelSelector: `${LABELS.allocator}=${serverName}`, limit: PAGE, ...(continueToken ? { continueToken } : {}) });
    for (const deployment of page.items) {
      const name = deployment.metadata?.name;
      if (!name) continue;
      const annotations = deployment.metadata?.annotations ?? {};
      const expiresAt = annotations[ANNOTATIONS.expiresAt];
      seen.set(name, { createdAt: timeOf(deployment.metadata?.creationTimestamp), owner: annotations[ANNOTATIONS.owner] ?? '', ...(expiresAt ? { expiresAt } : {}) });
    }
    continueToken = page.continueToken;
  } while (continueToken);
  return seen;
}

async function scanDisks(disks: DisksApi, serverName: string): Promise<Map<string, number>> {
  const created = new Map<string, number>();
  let pageToken: string | undefined;
  do {
    const page = await disks.listDisks({ filter: `labels.${DISK_LABELS.allocator} = "${serverName}"`, maxResults: PAGE, ...(pageToken ? { pageToken } : {}) });
    for (const disk of page.items) {
      if (disk.labels[DISK_LABELS.allocator] === serverName && disk.labels[DISK_LABELS.instance] === disk.name) created.set(disk.name, timeOf(disk.creationTimestamp));
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return created;
}

async function scanSlots(cluster: ClusterClient, serverName: string): Promise<Map<string, { instance: string; createdAt: number }>> {
  const slots = new Map<string, { instance: string; createdAt: number }>();
  let continueToken: string | undefined;
  do {
    const page = await cluster.listLeases({ labelSelector: `${LABELS.allocator}=${serverName},${SLOT_LABEL}`, limit: PAGE, ...(continueToken ? { continueToken } : {}) });
    for (const lease of page.items) {
      const name = lease.metadata?.name;
      const instance = lease.metadata?.labels?.[LABELS.instance];
      if (name && instance) slots.set(name, { instance, createdAt: timeOf(lease.metadata?.creationTimestamp) });
    }
    continueToken = page.continueToken;
  } while (continueToken);
  return slots;
}

function timeOf(value: Date | string | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY; // unknown age: treat as new, never as an orphan
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(time) ? time : Number.POSITIVE_INFINITY;
}

async function attempt(failed: { kind: string; name: string; error: string }[], kind: string, name: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    failed.push({ kind, name, error: (error as Error).message });
  }
}

async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}
